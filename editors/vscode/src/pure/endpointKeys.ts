// Which key goes to which host once roles and fallbacks name their own endpoints and key variables.

import { endpointHost } from "./endpoint";

/** The variables the server reads the main key from (config.py): the "Kimi: Set API Key" key. */
export const MAIN_KEY_VARIABLES: ReadonlySet<string> = new Set(["MOONSHOT_API_KEY", "KIMI_API_KEY"]);

/** The secret-storage entry holding the key for the environment variable `name`. */
export function endpointSecretName(name: string): string {
  return `kimi-lsp.endpointKey.${name}`;
}

// A key written into one of these would change how the server process runs (or what it reads
// its settings from), so the extension never sets them from secret storage.
const RESERVED_NAMES = new Set(["PATH", "HOME", "USER", "SHELL", "PWD", "TMPDIR", "LANG", "KIMI_BASE_URL", "KIMI_MODEL"]);
const RESERVED_PREFIXES = ["LD_", "DYLD_", "PYTHON", "NODE_", "NPM_", "VSCODE_", "ELECTRON_", "XDG_", "LC_"];

/** Why `name` cannot carry an endpoint key from secret storage, or undefined when it can. */
export function keyVariableProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    return `'${name}' is not an environment variable name (letters, digits and _, not starting with a digit)`;
  }
  const upper = name.toUpperCase();
  if (RESERVED_NAMES.has(upper) || RESERVED_PREFIXES.some((prefix) => upper.startsWith(prefix))) {
    return `'${name}' is a variable that changes how programs run; name another one (e.g. FALLBACK_API_KEY)`;
  }
  return undefined;
}

/** Where each stored key would go: the main key's hosts, and each endpoint variable's hosts. */
export interface KeyRoutes {
  /** Hosts the main key (MOONSHOT_API_KEY) reaches: the top-level endpoint and every entry naming a main-key variable. */
  main: string[];
  /** Endpoint variable name -> the hosts its key reaches (sorted, no duplicates). */
  endpoints: Record<string, string[]>;
  /** Entries naming a variable that cannot carry a key from secret storage: "models.chat.apiKeyEnv: why". */
  problems: string[];
}

interface Entry {
  where: string;
  value: unknown;
}

/** The role and fallback entries of the `models` and `fallback` settings, each with its settings path. */
function entries(models: unknown, fallback: unknown): Entry[] {
  const out: Entry[] = [];
  if (models && typeof models === "object" && !Array.isArray(models)) {
    for (const [role, value] of Object.entries(models as Record<string, unknown>)) {
      out.push({ where: `models.${role}`, value });
    }
  }
  if (Array.isArray(fallback)) {
    fallback.forEach((value, i) => out.push({ where: `fallback[${i}]`, value }));
  }
  return out.filter((e) => e.value && typeof e.value === "object" && !Array.isArray(e.value));
}

/**
 * Every host each stored key may be sent to, given the top-level endpoint (`baseUrl`, already
 * resolved like the server does) and the `models` / `fallback` settings. An entry without
 * `baseUrl` uses the top-level one. An entry without `apiKeyEnv` sends the main key only to the
 * top-level endpoint (config.py: on another endpoint it sends no key), so it adds no host; one
 * naming a main-key variable sends the main key to its host.
 */
export function keyRoutes(baseUrl: string, models: unknown, fallback: unknown): KeyRoutes {
  const main = new Set([endpointHost(baseUrl)]);
  const endpoints = new Map<string, Set<string>>();
  const problems: string[] = [];
  for (const { where, value } of entries(models, fallback)) {
    const entry = value as Record<string, unknown>;
    const url = typeof entry.baseUrl === "string" && entry.baseUrl.trim() ? entry.baseUrl.trim() : baseUrl;
    const host = endpointHost(url);
    const variable = typeof entry.apiKeyEnv === "string" ? entry.apiKeyEnv.trim() : "";
    if (!variable) continue;
    if (MAIN_KEY_VARIABLES.has(variable)) {
      main.add(host);
      continue;
    }
    const problem = keyVariableProblem(variable);
    if (problem) {
      problems.push(`${where}.apiKeyEnv: ${problem}`);
      continue;
    }
    const hosts = endpoints.get(variable) ?? new Set<string>();
    hosts.add(host);
    endpoints.set(variable, hosts);
  }
  const sorted = (hosts: Set<string>): string[] => [...hosts].sort();
  return {
    main: sorted(main),
    endpoints: Object.fromEntries([...endpoints.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)])),
    problems,
  };
}
