// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TplExperimentReportQuery } from "@/api/graphql.generated";
import { RateBar, Verdict } from "./Experiments";

afterEach(cleanup);

type Report = TplExperimentReportQuery["templateExperiment"];
const rate = (successes: number, conversations: number, low: number, high: number) => ({ __typename: "ExperimentRate" as const, successes, conversations, rate: successes / conversations, low, high });
const arm = (name: string) => ({
  __typename: "ExperimentArm" as const, name, body: name, weight: 1, conversations: 40, meanReplySeconds: null,
  replied: rate(20, 40, 0.3, 0.7), resolved: rate(10, 40, 0.1, 0.4), repliedVsControl: null, resolvedVsControl: null,
});
const report = (over: Partial<Report>): Report => ({
  __typename: "TemplateExperimentReport", id: "e1", templateId: "t1", version: 3, startedAt: "2026-12-01T10:00:00Z", stoppedAt: null, running: true, alpha: 0.05,
  promotedArm: null, promotedVersion: null, winner: null, method: "mSPRT", arms: [arm("A"), arm("B")], ...over,
});

describe("experiment report", () => {
  it("draws a rate with its interval", () => {
    render(<RateBar rate={rate(21, 40, 0.35, 0.68)} />);
    expect(screen.getByText("52.5%")).toBeTruthy();
    expect(screen.getByText("35%–68%")).toBeTruthy();
    expect(screen.getByText("21 of 40 conversations")).toBeTruthy();
  });

  it("says to keep collecting without a winner, and lets only admins promote one", () => {
    const onPromote = vi.fn();
    const { rerender } = render(<Verdict report={report({})} admin onPromote={onPromote} />);
    expect(screen.getByRole("status").textContent).toContain("keep collecting");
    rerender(<Verdict report={report({ winner: "B" })} admin={false} onPromote={onPromote} />);
    expect(screen.getByRole("status").textContent).toContain("Arm B replies significantly better");
    expect(screen.queryByRole("button", { name: /Promote/ })).toBeNull();
    rerender(<Verdict report={report({ winner: "B" })} admin onPromote={onPromote} />);
    fireEvent.click(screen.getByRole("button", { name: /Promote the winner/ }));
    expect(onPromote).toHaveBeenCalledWith("B");
    rerender(<Verdict report={report({ winner: "A" })} admin onPromote={onPromote} />);
    expect(screen.getByRole("status").textContent).toContain("keep the control (A)");
  });
});
