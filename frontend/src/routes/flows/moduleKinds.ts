// The flow node types the enabled modules add (the API's flowNodeTypes): the palette lists them,
// their form is drawn from their config's JSON Schema by the same code as Settings → Modules
// (integrations/modules/schemaForm.ts, SchemaFields.tsx), their ports are the server's. The editor
// registers them once it has them; the built-in types stay in kinds.ts.
import i18n from "i18next";
import { moduleFields } from "@/routes/integrations/modules/moduleWords";
import { fieldsOf, valuesOf, zodOf } from "@/routes/integrations/modules/schemaForm";

export interface ModuleKind {
  name: string;
  module: string;
  moduleTitle: string;
  description: string;
  configSchema: unknown;
  ports: string[];
}

let registered = new Map<string, ModuleKind>();

export function setModuleKinds(kinds: readonly ModuleKind[]): void {
  registered = new Map(kinds.map((k) => [k.name, k]));
}
export const moduleKind = (name: string): ModuleKind | undefined => registered.get(name);
export const moduleKinds = (): ModuleKind[] => [...registered.values()];

/** What is wrong with a module node's config, per field: the schema form's checks (the server's
 * jsonschema does the same), each message in the reader's language. */
export function moduleIssues(kind: ModuleKind, config: Record<string, unknown>): { path: string[]; message: string }[] {
  const fields = moduleFields(fieldsOf(kind.configSchema), kind.module, kind.name); // labels in the reader's language
  const result = zodOf(kind.configSchema).safeParse(valuesOf(fields, config));
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "");
    const label = fields.find((f) => f.name === name)?.label ?? name;
    const [key, value] = issue.message.split(/:(.*)/s);
    return { path: issue.path.map(String), message: `${label}: ${i18n.t(`integrations.modules.errors.${key}`, { value, defaultValue: issue.message })}` };
  });
}
