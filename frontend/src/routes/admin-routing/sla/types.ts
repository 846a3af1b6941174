import type { AdminSlaPoliciesQuery } from "@/api/graphql.generated";

export type Policy = AdminSlaPoliciesQuery["slaPolicies"][number];
export type TeamRef = AdminSlaPoliciesQuery["teams"][number];
