// A module's configSchema (JSON Schema, an object of properties) as form fields and the Zod schema
// that checks them like the server's jsonschema does (required, pattern, lengths, bounds, enums);
// values marked writeOnly come back as *** and must be typed again to be saved.
import { z } from "zod";

type Json = Record<string, unknown>;
export type FieldKind = "text" | "secret" | "select" | "switch" | "number" | "multi" | "list" | "json";

export interface FieldSpec {
  name: string;
  label: string;
  description: string | null;
  kind: FieldKind;
  required: boolean;
  options: string[];
  integer: boolean;
}
export type FormValues = Record<string, string | boolean | string[]>;

const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

export function fieldsOf(schema: unknown): FieldSpec[] {
  const s = obj(schema);
  const required = new Set(strs(s.required));
  return Object.entries(obj(s.properties)).map(([name, raw]) => {
    const p = obj(raw);
    const items = obj(p.items);
    let kind: FieldKind = "json";
    if (p.writeOnly === true) kind = "secret";
    else if (Array.isArray(p.enum)) kind = "select";
    else if (p.type === "string") kind = "text";
    else if (p.type === "boolean") kind = "switch";
    else if (p.type === "integer" || p.type === "number") kind = "number";
    else if (p.type === "array" && Array.isArray(items.enum)) kind = "multi";
    else if (p.type === "array" && items.type === "string") kind = "list";
    return {
      name,
      label: typeof p.title === "string" ? p.title : name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()),
      description: typeof p.description === "string" ? p.description : null,
      kind,
      required: required.has(name),
      options: kind === "multi" ? strs(items.enum) : kind === "select" ? (p.enum as unknown[]).map(String) : [],
      integer: p.type === "integer",
    };
  });
}

/** Error messages are keys (with a number after ":"), translated where they are shown. */
export function zodOf(schema: unknown) {
  const props = obj(obj(schema).properties);
  const shape: Record<string, z.ZodType> = {};
  for (const f of fieldsOf(schema)) {
    const p = obj(props[f.name]);
    if (f.kind === "switch") shape[f.name] = z.boolean();
    else if (f.kind === "multi") shape[f.name] = z.array(z.string()).refine((a) => !f.required || a.length > 0, "required");
    else {
      shape[f.name] = z.string().superRefine((raw, ctx) => {
        const v = f.kind === "list" || f.kind === "json" ? raw : raw.trim();
        if (!v) {
          if (f.required) ctx.addIssue({ code: "custom", message: "required" });
          return;
        }
        if (f.kind === "text" || f.kind === "secret") {
          if (typeof p.minLength === "number" && v.length < p.minLength) ctx.addIssue({ code: "custom", message: `minLength:${p.minLength}` });
          if (typeof p.maxLength === "number" && v.length > p.maxLength) ctx.addIssue({ code: "custom", message: `maxLength:${p.maxLength}` });
          if (typeof p.pattern === "string" && !new RegExp(p.pattern, "u").test(v)) ctx.addIssue({ code: "custom", message: `pattern:${p.pattern}` });
        } else if (f.kind === "number") {
          const n = Number(v);
          if (!Number.isFinite(n) || (f.integer && !Number.isInteger(n))) ctx.addIssue({ code: "custom", message: f.integer ? "integer" : "number" });
          else if (typeof p.minimum === "number" && n < p.minimum) ctx.addIssue({ code: "custom", message: `minimum:${p.minimum}` });
          else if (typeof p.maximum === "number" && n > p.maximum) ctx.addIssue({ code: "custom", message: `maximum:${p.maximum}` });
        } else if (f.kind === "json") {
          try {
            JSON.parse(v);
          } catch {
            ctx.addIssue({ code: "custom", message: "json" });
          }
        }
      });
    }
  }
  return z.object(shape);
}

export function valuesOf(fields: FieldSpec[], config: Json): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = config[f.name];
    if (f.kind === "switch") values[f.name] = v === true;
    else if (f.kind === "multi") values[f.name] = strs(v);
    else if (f.kind === "secret") values[f.name] = "";
    else if (f.kind === "list") values[f.name] = strs(v).join("\n");
    else if (f.kind === "json") values[f.name] = v === undefined ? "" : JSON.stringify(v, null, 2);
    else values[f.name] = v === undefined || v === null ? "" : String(v);
  }
  return values;
}

/** The configuration to send: empty optional values left out (the module's defaults apply). */
export function configOf(fields: FieldSpec[], values: FormValues): Json {
  const config: Json = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === "switch") config[f.name] = v === true;
    else if (f.kind === "multi") {
      if ((v as string[]).length) config[f.name] = v;
    } else {
      const text = String(v ?? "");
      if (!text.trim()) continue;
      if (f.kind === "number") config[f.name] = Number(text);
      else if (f.kind === "list") config[f.name] = text.split("\n").map((l) => l.trim()).filter(Boolean);
      else if (f.kind === "json") config[f.name] = JSON.parse(text);
      else config[f.name] = text.trim();
    }
  }
  return config;
}
