/**
 * Outbound HTTP(S) proxies: which proxy, if any, a request to a given URL goes through.
 *
 * Sources, in order: settings.conf `PROXY` (both schemes) wins over the environment's
 * `https_proxy`/`HTTPS_PROXY` and `http_proxy`/`HTTP_PROXY` (lower case first, as curl and so git
 * read them); `NO_PROXY` entries of settings.conf and of the environment (`no_proxy`/`NO_PROXY`)
 * all apply — Bun's fetch honours the environment's NO_PROXY on its own, so a narrower list in
 * settings.conf could not be kept anyway. The same decision is handed to every client: fetch gets
 * the proxy per request, git gets it as environment variables.
 *
 * A proxy URL may carry credentials (`http://user:secret@proxy:3128`); `describeProxy` is the
 * only form of it that goes into logs and error messages.
 */

export interface ProxyConfig {
  /** Proxy for https:// URLs, or null for direct connections. */
  readonly https: string | null;
  /** Proxy for http:// URLs, or null for direct connections. */
  readonly http: string | null;
  /** NO_PROXY entries, lower case: host names, `.domain` suffixes, IP addresses, CIDR, `*`. */
  readonly noProxy: readonly string[];
}

export const NO_PROXIES: ProxyConfig = { https: null, http: null, noProxy: [] };

export class ProxySettingError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = "ProxySettingError";
  }
}

/**
 * A proxy URL as given by an operator, checked and normalised: `http://` or `https://` with a
 * host; a bare `host:port` means `http://host:port` (as curl reads it). `source` names the
 * setting or variable in the error.
 */
export function parseProxyUrl(text: string, source: string): string {
  const value = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxySettingError(source, `is not a proxy URL like "http://proxy.example.com:3128"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProxySettingError(
      source,
      `must be an http:// or https:// proxy, got ${url.protocol}// (SOCKS proxies are not supported)`,
    );
  }
  if (url.hostname === "") throw new ProxySettingError(source, "names no proxy host");
  return withScheme.replace(/\/+$/, "");
}

/** Splits a NO_PROXY value (commas or blanks) into lower-case entries. */
export function parseNoProxy(text: string | undefined | null): string[] {
  return (text ?? "")
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== "");
}

type Env = Record<string, string | undefined>;

/** The first non-empty variable among `names`, with its name. */
function firstSet(env: Env, names: string[]): { name: string; value: string } | null {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return null;
}

/**
 * The proxies for this process: settings.conf `PROXY`/`NO_PROXY` (null when absent) and the
 * environment. Throws `ProxySettingError` naming the setting or variable that is not a proxy URL.
 */
export function resolveProxies(
  settings: { proxy: string | null; noProxy: string | null },
  env: Env = process.env,
): ProxyConfig {
  const noProxy = [
    ...parseNoProxy(settings.noProxy),
    ...parseNoProxy(firstSet(env, ["no_proxy", "NO_PROXY"])?.value),
  ];
  if (settings.proxy) {
    const proxy = parseProxyUrl(settings.proxy, "PROXY");
    return { https: proxy, http: proxy, noProxy };
  }
  const https = firstSet(env, ["https_proxy", "HTTPS_PROXY"]);
  const http = firstSet(env, ["http_proxy", "HTTP_PROXY"]);
  return {
    https: https ? parseProxyUrl(https.value, `${https.name} (environment)`) : null,
    http: http ? parseProxyUrl(http.value, `${http.name} (environment)`) : null,
    noProxy,
  };
}

function ipv4Number(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) < 256))
    return null;
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

function inCidr(host: string, entry: string): boolean {
  const [base = "", bitsText = ""] = entry.split("/");
  const address = ipv4Number(host);
  const network = ipv4Number(base);
  const bits = Number(bitsText);
  if (address === null || network === null || !/^\d+$/.test(bitsText) || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(network / size);
}

/** Whether NO_PROXY `entries` send a request to `host`:`port` directly. */
export function bypassesProxy(host: string, port: string, entries: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  for (const raw of entries) {
    if (raw === "*") return true;
    let entry = raw;
    let entryPort: string | null = null;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entry = bracketed[1] ?? "";
      entryPort = bracketed[2] ?? null;
    } else {
      const withPort = /^([^:]+):(\d+)$/.exec(entry);
      if (withPort) {
        entry = withPort[1] ?? "";
        entryPort = withPort[2] ?? null;
      }
    }
    if (entryPort !== null && entryPort !== port) continue;
    if (entry.includes("/")) {
      if (inCidr(name, entry)) return true;
      continue;
    }
    const domain = entry.replace(/^\*?\./, "");
    if (name === domain || name.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** The proxy a request to `url` goes through, or null for a direct connection. */
export function proxyFor(url: string | URL, config: ProxyConfig): string | null {
  const target = typeof url === "string" ? new URL(url) : url;
  const proxy =
    target.protocol === "https:" ? config.https : target.protocol === "http:" ? config.http : null;
  if (proxy === null) return null;
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  return bypassesProxy(target.hostname, port, config.noProxy) ? null : proxy;
}

/** A proxy URL fit for logs: scheme, host and port; credentials are never shown. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    const credentials = url.username || url.password ? "***@" : "";
    return `${url.protocol}//${credentials}${url.host}`;
  } catch {
    return "(unreadable proxy URL)";
  }
}

/**
 * Bun's fetch also applies the environment's proxies by itself, to any request not given one,
 * and cannot be told not to. Giving the process environment the full NO_PROXY list (settings.conf
 * entries included) makes that built-in choice the same as `proxyFor`'s. Called once at start.
 */
export function shareNoProxyWithRuntime(config: ProxyConfig, env: Env = process.env): void {
  if (config.noProxy.length === 0) return;
  const list = config.noProxy.join(",");
  env.NO_PROXY = list;
  env.no_proxy = list;
}

/** The credentials inside the proxy URLs, for the logger's list of values never to print. */
export function proxyCredentials(config: ProxyConfig): string[] {
  const found: string[] = [];
  for (const proxy of [config.https, config.http]) {
    if (!proxy) continue;
    const url = new URL(proxy);
    if (url.password) found.push(url.password, decodeURIComponent(url.password));
    if (url.username && url.password) found.push(`${url.username}:${url.password}`);
  }
  return found;
}

/** What the service logs at start about its proxies. */
export function proxySummary(config: ProxyConfig): Record<string, string> {
  return {
    https: config.https ? describeProxy(config.https) : "direct",
    http: config.http ? describeProxy(config.http) : "direct",
    noProxy: config.noProxy.join(",") || "(none)",
  };
}

/** Error of a request that went through a proxy; the message names the proxy without credentials. */
export class ProxyRequestError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "ProxyRequestError";
  }
}

function failureText(error: unknown, proxy: string, target: URL): string {
  const failure = error as { code?: string; message?: string };
  const via = `proxy ${describeProxy(proxy)}`;
  if (failure.code === "ERR_PROXY_TUNNEL") {
    const answer = (failure.message ?? "").replace(/^Proxy refused to open a tunnel:\s*/i, "");
    return `${via} refused to open a tunnel to ${target.host}: ${answer || "no reason given"}`;
  }
  if (failure.code === "ECONNREFUSED") return `${via} refused the connection (is it running?)`;
  if (failure.code === "ENOTFOUND" || failure.code === "EAI_AGAIN")
    return `${via}: its host name does not resolve`;
  const message = (failure.message ?? String(error)).split(proxy).join(describeProxy(proxy));
  return `${message} (through ${via})`;
}

/**
 * `fetch` that sends each request through the proxy `config` chooses for its URL. Failures of a
 * proxied request become `ProxyRequestError`s naming the proxy; timeouts and aborts stay as they
 * are, so callers still recognise them.
 */
export function proxiedFetch(config: ProxyConfig, base: typeof fetch = fetch): typeof fetch {
  if (config.https === null && config.http === null) return base;
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    const target = new URL(input instanceof Request ? input.url : input);
    const proxy = proxyFor(target, config);
    if (proxy === null) return base(input, init);
    try {
      return await base(input, { ...init, proxy } as RequestInit);
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === "AbortError" || name === "TimeoutError") throw error;
      throw new ProxyRequestError(failureText(error, proxy, target), { cause: error });
    }
  };
  return Object.assign(wrapped, { preconnect: base.preconnect }) as typeof fetch;
}

/**
 * Environment for a git child: the same proxies in the variables curl (git's HTTP transport)
 * reads. Empty when nothing is proxied, so git connects directly.
 */
export function gitProxyEnvironment(config: ProxyConfig): Record<string, string> {
  const env: Record<string, string> = {};
  if (config.https) env.https_proxy = config.https;
  if (config.http) env.http_proxy = config.http;
  if ((config.https || config.http) && config.noProxy.length > 0)
    env.no_proxy = config.noProxy.join(",");
  return env;
}
