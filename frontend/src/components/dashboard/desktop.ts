// Browser (desktop) notifications: off until the user turns them on and the browser allows them;
// the choice is kept per browser (localStorage). Shown only while the app is not in front: the
// bell already says it when it is.
import { useState } from "react";
import type { Notification as Item } from "./notifications";
import { targetOf } from "./notifications";

const KEY = "pytake.desktopNotifications";
const supported = () => typeof window !== "undefined" && "Notification" in window;

export function desktopAllowed(): boolean {
  return supported() && window.Notification.permission === "granted";
}

function stored(): boolean {
  try {
    return localStorage.getItem(KEY) === "1";
  } catch {
    return false;
  }
}

export function useDesktopNotifications() {
  const [enabled, setEnabled] = useState(() => stored() && desktopAllowed());
  const [blocked, setBlocked] = useState(() => supported() && window.Notification.permission === "denied");
  const set = async (on: boolean) => {
    if (on && supported() && window.Notification.permission !== "granted") {
      const answer = await window.Notification.requestPermission();
      if (answer !== "granted") {
        setBlocked(answer === "denied");
        return;
      }
    }
    try {
      localStorage.setItem(KEY, on ? "1" : "0");
    } catch {
      /* kept for this page only */
    }
    setEnabled(on);
  };
  return { enabled, blocked, supported: supported(), set };
}

export function showDesktop(n: Item, go: (path: string) => void): void {
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  let note: globalThis.Notification;
  try {
    note = new window.Notification(n.title, { body: n.body, tag: `pytake-${n.id}` });
  } catch {
    return; // browsers that allow them only from a service worker (Chrome on Android): the bell says it
  }
  note.onclick = () => {
    window.focus();
    const target = targetOf(n);
    if (target) go(target);
    note.close();
  };
}
