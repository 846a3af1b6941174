// A module's own words (its title and description, its configuration's and its flow nodes' field
// labels and help) in the reader's language. The server has them in English, as the module's Python
// wrote them; the modules PyTake ships are translated like every other label, under
// integrations.modules.catalog.<module> (src/i18n/screens/integrations.ts); any other module is
// shown as it wrote itself. The strings are read as they are, not interpolated: "{{variables}} are
// filled in" stays as written.
import i18n from "i18next";
import type { FieldSpec } from "./schemaForm";

const CATALOG = "integrations.modules.catalog";

function raw(path: string): string | undefined {
  for (const lng of [i18n.resolvedLanguage ?? i18n.language, "en"]) {
    const found: unknown = i18n.getResource(lng, "translation", `${CATALOG}.${path}`);
    if (typeof found === "string") return found;
  }
  return undefined;
}

/** The module's `title` or `description` (or a node's: `nodes.<kind>.description`), else `fallback`. */
export function moduleText(module: string, path: string, fallback: string): string {
  return raw(`${module}.${path}`) ?? fallback;
}

/** The fields with their label and help in the reader's language where the catalog has them.
 * `node`: a flow node type's config instead of the module's own. */
export function moduleFields(fields: FieldSpec[], module: string, node?: string): FieldSpec[] {
  const at = node ? `${module}.nodes.${node}.fields` : `${module}.fields`;
  return fields.map((f) => ({
    ...f,
    label: raw(`${at}.${f.name}.label`) ?? f.label,
    description: raw(`${at}.${f.name}.help`) ?? f.description,
  }));
}
