// @vitest-environment jsdom
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { message } from "../../test/fixtures";
import { NoteText } from "../Timeline";
import { labelProblem } from "./LabelEditor";
import { Media, textIsPreview } from "./Media";
import { candidates } from "./MergeDialog";
import { eraseReady } from "./PrivacyActions";
import { parseSnooze, presets } from "./SnoozePicker";

describe("snooze", () => {
  const now = new Date(2026, 11, 5, 20, 0); // a Saturday evening
  it("takes a picked local date and time in the future only", () => {
    expect(parseSnooze("2026-12-08T10:30", now)).toEqual({ until: new Date(2026, 11, 8, 10, 30).toISOString() });
    expect(parseSnooze("2026-12-05T19:00", now)).toEqual({ error: "past" });
    expect(parseSnooze("", now)).toEqual({ error: "required" });
  });
  it("offers only quick choices still ahead", () => {
    expect(presets(now).map((p) => p.key)).toEqual(["hour", "tomorrow", "monday"]); // 18:00 has passed
    expect(presets(now).find((p) => p.key === "monday")?.at.getDay()).toBe(1);
  });
});

describe("media previews", () => {
  it("shows images, audio, documents, a location and contact cards", () => {
    const m = message({
      direction: "INBOUND", kind: "IMAGE", text: null,
      attachments: [
        { __typename: "Attachment", kind: "IMAGE", url: "https://x/p.jpg", filename: "p.jpg", mimeType: "image/jpeg", size: 2048 },
        { __typename: "Attachment", kind: "AUDIO", url: "https://x/a.ogg", filename: null, mimeType: "audio/ogg", size: null },
        { __typename: "Attachment", kind: "DOCUMENT", url: null, filename: "nota.pdf", mimeType: "application/pdf", size: 3 * 1024 * 1024 },
      ],
      metadata: { location: { latitude: -23.55, longitude: -46.63, name: "Loja Centro" }, contacts: [{ name: { formatted_name: "Ana" }, phones: [{ phone: "+55 11 9999" }] }] },
    });
    const { container } = render(<Media m={m} />);
    expect([...container.querySelectorAll("[data-media]")].map((e) => e.getAttribute("data-media"))).toEqual(["image", "audio", "document", "location", "contact"]);
    expect(screen.getByText("application/pdf · 3.0 MB")).toBeTruthy();
    expect(screen.getByText("Loja Centro")).toBeTruthy();
    expect(textIsPreview({ ...m, kind: "LOCATION" })).toBe(true);
  });
});

describe("notes, labels, merge and erasure rules", () => {
  it("marks @mentions of known people, whole names only", () => {
    const { container } = render(<NoteText text="@Ana Lima please check, cc @anabela" people={["Ana Lima", "Bruno"]} />);
    expect([...container.querySelectorAll("[data-mention]")].map((e) => e.textContent)).toEqual(["@Ana Lima"]);
  });
  it("checks a label as the server would", () => {
    expect(labelProblem("VIP", ["vip"])).toBe("duplicate");
    expect(labelProblem("x".repeat(51), [])).toBe("long");
    expect(labelProblem("new", Array.from({ length: 20 }, (_, i) => `l${i}`))).toBe("many");
    expect(labelProblem("ok", [])).toBeNull();
  });
  it("lists each other customer once", () => {
    const node = (id: string) => ({ __typename: "Conversation" as const, id: `c${id}`, platform: "WHATSAPP" as const, customer: { __typename: "Customer" as const, id, name: id, phone: null, email: null, identities: [] } });
    const edges = ["a", "b", "a", "me"].map((id) => ({ __typename: "SearchHit" as const, cursor: id, rank: 1, node: node(id) }));
    expect(candidates(edges, "me").map((c) => c.id)).toEqual(["a", "b"]);
  });
  it("erases only with a reason and the word typed", () => {
    expect(eraseReady("customer asked", " erase ", "ERASE")).toBe(true);
    expect(eraseReady("", "ERASE", "ERASE")).toBe(false);
    expect(eraseReady("customer asked", "ERAS", "ERASE")).toBe(false);
  });
});

describe("@mention suggestions", () => {
  it("finds the name being typed, inserts it whole, and matches people by any word", async () => {
    const { mentionQuery, applyMention, matchPeople } = await import("./MentionAssist");
    expect(mentionQuery("Can you check, @Be", 18)).toBe("Be");
    expect(mentionQuery("mail me at x@y", 14)).toBeNull(); // an e-mail address is not a mention
    expect(mentionQuery("@", 1)).toBe("");
    expect(applyMention("Hi @Be thanks", 6, "Bea Agent")).toEqual({ text: "Hi @Bea Agent thanks", caret: 14 });
    expect(matchPeople(["Ana Lima", "Bea Agent", "Álvaro"], "ag")).toEqual(["Bea Agent"]);
    expect(matchPeople(["Ana Lima", "Álvaro"], "al")).toEqual(["Álvaro"]);
  });
  it("offers people in the note box and writes the picked name into the composer's own draft", async () => {
    const { MentionAssist } = await import("./MentionAssist");
    const { useState } = await import("react");
    const { fireEvent } = await import("@testing-library/react");
    let sent = "";
    function Box() {
      const [draft, setDraft] = useState("");
      return <textarea aria-label="Private note" value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={(e) => { if (e.key === "Enter") sent = draft; }} />;
    }
    render(<MentionAssist people={["Ana Lima", "Bea Agent"]} isNoteBox={(b) => b.getAttribute("aria-label") === "Private note"}><Box /></MentionAssist>);
    const box = screen.getByRole("textbox") as HTMLTextAreaElement;
    box.focus();
    fireEvent.input(box, { target: { value: "ping @be" } });
    expect(screen.getByRole("option", { name: /Bea Agent/ })).toBeTruthy();
    fireEvent.keyDown(box, { key: "Enter" });
    expect(box.value).toBe("ping @Bea Agent ");
    expect(sent).toBe(""); // Enter picked the name; it did not send
    expect(screen.queryByRole("listbox")).toBeNull();
  });
});

describe("transfer and escalation forms", () => {
  it("need a reason; a transfer also a person or team, an escalation may go to the queue", async () => {
    const { transferSchema, escalateSchema } = await import("./TransferDialog");
    expect(transferSchema.safeParse({ reason: "  ", to: "team:1" }).success).toBe(false);
    expect(transferSchema.safeParse({ reason: "night shift", to: "none" }).error?.issues[0].message).toBe("pickTarget");
    expect(transferSchema.safeParse({ reason: "night shift", to: "team:1" }).success).toBe(true);
    expect(escalateSchema.safeParse({ reason: "angry", to: "none" }).success).toBe(true);
    expect(escalateSchema.safeParse({ reason: "x".repeat(501), to: "none" }).error?.issues[0].message).toBe("reasonLong");
  });
});
