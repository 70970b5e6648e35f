/**
 * A small, side-effect-free expander for the rpm macros a package's `Source`, `Patch` and `%prep`
 * lines use: spec-defined `%global`/`%define`, tag macros (`%{name}`, `%{version}`, ...),
 * conditionals (`%{?x}`, `%{?x:a}`, `%{!?x:b}`), `%{expand:...}`, `%bcond`s and a few built-ins.
 *
 * It is the reason an apply check never executes anything from a spec: shell expansion
 * (`%(...)`), Lua (`%{lua:...}`) and expressions (`%[...]`) are not evaluated but refused with
 * MacroError, and so is any macro this module does not know. `rpmspec` is deliberately not used:
 * it cannot be told to skip `%(...)`.
 */

export class MacroError extends Error {
  constructor(readonly what: string) {
    super(`cannot expand ${what}`);
    this.name = "MacroError";
  }
}

/** What the check assumes about the build host: an x86_64 openEuler builder. */
const BUILTIN: Record<string, string> = {
  nil: "",
  _arch: "x86_64",
  _target_cpu: "x86_64",
  _host_cpu: "x86_64",
  _build_arch: "x86_64",
  _os: "linux",
  _vendor: "openEuler",
  _prefix: "/usr",
  _exec_prefix: "/usr",
  _bindir: "/usr/bin",
  _sbindir: "/usr/sbin",
  _libdir: "/usr/lib64",
  _libexecdir: "/usr/libexec",
  _includedir: "/usr/include",
  _datadir: "/usr/share",
  _datarootdir: "/usr/share",
  _docdir: "/usr/share/doc",
  _mandir: "/usr/share/man",
  _infodir: "/usr/share/info",
  _sysconfdir: "/etc",
  _localstatedir: "/var",
  _sharedstatedir: "/var/lib",
  _unitdir: "/usr/lib/systemd/system",
  _topdir: "/rpmbuild",
  _sourcedir: "/rpmbuild/SOURCES",
  _builddir: "/rpmbuild/BUILD",
  ix86: "i386 i486 i586 i686 pentium3 pentium4 athlon geode",
  arm: "armv3l armv4b armv4l armv4tl armv5tl armv5tel armv5tejl armv6l armv6hl armv7l armv7hl armv7hnl",
  x86_64: "x86_64 amd64 em64t",
  _default_patch_fuzz: "0",
  __global_ldflags: "",
  optflags: "-O2 -g",
};

const MAX_DEPTH = 32;
const MAX_OUTPUT = 64 * 1024;

export class Macros {
  private readonly defined = new Map<string, string>();

  constructor() {
    for (const [name, value] of Object.entries(BUILTIN)) this.defined.set(name, value);
  }

  define(name: string, body: string): void {
    this.defined.set(name, body);
  }

  undefine(name: string): void {
    this.defined.delete(name);
  }

  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** `%global`: the body is expanded now (when it can be; else it is kept and fails on use). */
  global(name: string, body: string): void {
    try {
      this.defined.set(name, this.expand(body));
    } catch {
      this.defined.set(name, body);
    }
  }

  /** Expands every macro in `text`; throws MacroError for anything it will not evaluate. */
  expand(text: string, depth = 0): string {
    if (depth > MAX_DEPTH) throw new MacroError("macros nested too deeply");
    let out = "";
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c !== "%") {
        out += c;
        i++;
        continue;
      }
      const next = text[i + 1];
      if (next === "%") {
        out += "%";
        i += 2;
        continue;
      }
      if (next === "(") throw new MacroError("shell expansion %(...)");
      if (next === "[") throw new MacroError("expression %[...]");
      if (next === "{") {
        const close = matching(text, i + 1);
        if (close === -1) throw new MacroError("an unclosed %{");
        out += this.braced(text.slice(i + 2, close), depth);
        i = close + 1;
      } else {
        const match = /^([?!]*)([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i + 1));
        if (!match) {
          out += "%";
          i++;
          continue;
        }
        out += this.reference(match[2] ?? "", match[1] ?? "", undefined, depth);
        i += 1 + match[0].length;
      }
      if (out.length > MAX_OUTPUT) throw new MacroError("a macro that expands without end");
    }
    return out;
  }

  private braced(inner: string, depth: number): string {
    const match = /^([?!]*)([A-Za-z_][A-Za-z0-9_]*)(?::([\s\S]*))?$/.exec(inner);
    if (!match) {
      // `%{expand: ...}`-like built-ins with a space, `%{lua: ...}`, `%{with foo}`
      const call = /^([A-Za-z_]+)\s+([\s\S]*)$/.exec(inner);
      if (call) return this.call(call[1] ?? "", call[2] ?? "", depth);
      throw new MacroError(`%{${inner}}`);
    }
    const [, flags = "", name = "", arg] = match;
    if (!flags && arg !== undefined) return this.call(name, arg, depth);
    return this.reference(name, flags, arg, depth);
  }

  private reference(name: string, flags: string, arg: string | undefined, depth: number): string {
    const conditional = flags.includes("?");
    const negated = flags.includes("!");
    const value = this.defined.get(name);
    if (conditional) {
      const present = value !== undefined;
      if (arg !== undefined) return present !== negated ? this.expand(arg, depth + 1) : "";
      if (negated) return "";
      return present ? this.expand(value, depth + 1) : "";
    }
    if (value === undefined) throw new MacroError(`%{${name}}`);
    return this.expand(value, depth + 1);
  }

  private call(name: string, arg: string, depth: number): string {
    switch (name) {
      case "expand":
        return this.expand(this.expand(arg, depth + 1), depth + 1);
      case "with":
        return this.defined.has(`with_${arg.trim()}`) ? "1" : "0";
      case "without":
        return this.defined.has(`with_${arg.trim()}`) ? "0" : "1";
      case "defined":
        return this.defined.has(arg.trim()) ? "1" : "0";
      case "undefined":
        return this.defined.has(arg.trim()) ? "0" : "1";
      case "basename":
        return (
          this.expand(arg, depth + 1)
            .split("/")
            .at(-1) ?? ""
        ).trim();
      case "dirname": {
        const path = this.expand(arg, depth + 1).trim();
        return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
      }
      case "lower":
        return this.expand(arg, depth + 1).toLowerCase();
      case "upper":
        return this.expand(arg, depth + 1).toUpperCase();
      default:
        throw new MacroError(`%{${name}:...}`);
    }
  }
}

/** Index of the `}` closing the `{` at `open`, or -1. */
function matching(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/**
 * Evaluates an expanded `%if` expression: integers, quoted strings, `!`, `&&`, `||`,
 * comparisons and parentheses, as rpm's expression parser does. Null when it cannot be read.
 */
export function evaluateCondition(expression: string): boolean | null {
  const tokens = expression.match(/"[^"]*"|&&|\|\||[=!<>]=|[<>!()]|[^\s"&|=!<>()]+/g) ?? [];
  let at = 0;
  type Value = number | string;
  const primary = (): Value | null => {
    const token = tokens[at++];
    if (token === undefined) return null;
    if (token === "!") {
      const value = primary();
      return value === null ? null : truthy(value) ? 0 : 1;
    }
    if (token === "(") {
      const value = or();
      if (tokens[at++] !== ")") return null;
      return value;
    }
    if (token.startsWith('"')) return token.slice(1, -1);
    if (/^-?\d+$/.test(token)) return Number(token);
    return token; // a bare word (e.g. an unexpanded arch name) compares as text
  };
  const comparison = (): Value | null => {
    const left = primary();
    if (left === null) return null;
    const op = tokens[at];
    if (op && ["==", "!=", "<", ">", "<=", ">="].includes(op)) {
      at++;
      const right = primary();
      if (right === null) return null;
      const compared =
        typeof left === "number" && typeof right === "number"
          ? left - right
          : String(left).localeCompare(String(right));
      const results: Record<string, boolean> = {
        "==": compared === 0,
        "!=": compared !== 0,
        "<": compared < 0,
        ">": compared > 0,
        "<=": compared <= 0,
        ">=": compared >= 0,
      };
      return results[op] ? 1 : 0;
    }
    return left;
  };
  const and = (): Value | null => {
    let left = comparison();
    while (left !== null && tokens[at] === "&&") {
      at++;
      const right = comparison();
      if (right === null) return null;
      left = truthy(left) && truthy(right) ? 1 : 0;
    }
    return left;
  };
  function or(): Value | null {
    let left = and();
    while (left !== null && tokens[at] === "||") {
      at++;
      const right = and();
      if (right === null) return null;
      left = truthy(left) || truthy(right) ? 1 : 0;
    }
    return left;
  }
  if (tokens.length === 0) return false;
  const value = or();
  if (value === null || at !== tokens.length) return null;
  return truthy(value);
}

function truthy(value: number | string): boolean {
  return typeof value === "number" ? value !== 0 : value !== "";
}
