// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { officeWeek } from "../hours";
import { HolidaysEditor } from "./HolidaysEditor";
import { WeekEditor } from "./WeekEditor";

afterEach(cleanup);

describe("WeekEditor", () => {
  it("opens a closed day, adds a second range after the first, copies Monday to weekdays", () => {
    const onChange = vi.fn();
    const week = officeWeek();
    week.mon = [{ start: "08:00", end: "12:00" }];
    render(<WeekEditor week={week} onChange={onChange} errors={{ tue: "overlap" }} />);
    fireEvent.click(screen.getByRole("switch", { name: "Saturday: Closed" }));
    expect(onChange.mock.lastCall![0].sat).toEqual([{ start: "09:00", end: "18:00" }]);
    fireEvent.click(screen.getByRole("button", { name: "Add hours: Monday" }));
    expect(onChange.mock.lastCall![0].mon).toEqual([{ start: "08:00", end: "12:00" }, { start: "12:00", end: "22:00" }]);
    fireEvent.click(screen.getByRole("button", { name: "Copy Monday to weekdays" }));
    expect(onChange.mock.lastCall![0].fri).toEqual([{ start: "08:00", end: "12:00" }]);
    expect(onChange.mock.lastCall![0].sat).toEqual([]);
    fireEvent.change(screen.getByLabelText("Monday 1: Closes"), { target: { value: "11:30" } });
    expect(onChange.mock.lastCall![0].mon).toEqual([{ start: "08:00", end: "11:30" }]);
    fireEvent.click(screen.getByRole("button", { name: "Remove 08:00–12:00 on Monday" }));
    expect(onChange.mock.lastCall![0].mon).toEqual([]);
    expect(screen.getByRole("alert").textContent).toBe("Ranges on the same day overlap.");
  });
});

describe("HolidaysEditor", () => {
  it("adds a date in order and refuses it twice", () => {
    const onChange = vi.fn();
    render(<HolidaysEditor holidays={["2026-12-31"]} onChange={onChange} />);
    const input = screen.getByLabelText("Holiday date");
    fireEvent.change(input, { target: { value: "2026-12-25" } });
    fireEvent.click(screen.getByRole("button", { name: "Add holiday" }));
    expect(onChange).toHaveBeenLastCalledWith(["2026-12-25", "2026-12-31"]);
    fireEvent.change(input, { target: { value: "2026-12-31" } });
    fireEvent.click(screen.getByRole("button", { name: "Add holiday" }));
    expect(screen.getByRole("alert").textContent).toBe("That day is already a holiday.");
    expect(onChange).toHaveBeenCalledTimes(1);
    fireEvent.click(screen.getByRole("button", { name: /^Remove holiday/ }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });
});
