import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// README.zh-CN.md is the Chinese copy of README.md. Prose is translated, but every command line
// and code block must stay byte-identical so a maintainer can copy from either, and every `##`
// section must exist in both so neither guide silently falls behind.

const ROOT = join(import.meta.dir, "..");
const english = readFileSync(join(ROOT, "README.md"), "utf8");
const chinese = readFileSync(join(ROOT, "README.zh-CN.md"), "utf8");

/** English `##` heading → its Chinese counterpart. Add a row when a section is added to both. */
const SECTIONS: Record<string, string> = {
  "Quick start": "快速上手",
  "Install from RPM": "从 RPM 安装",
  Configuration: "配置",
  "REST API": "REST API",
  "Command line": "命令行",
  "What lands on Gitee": "Gitee 上会出现什么",
  "Scanner, status and dry run": "扫描器、状态页和试运行",
  Operating: "运维",
  Troubleshooting: "常见问题",
  Development: "开发",
  Performance: "性能",
};

/** The fenced code blocks of a Markdown text, in order, each with its fence lines and indentation. */
function fencedBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: string[] | null = null;
  for (const line of markdown.split("\n")) {
    const isFence = /^\s*```/.test(line);
    if (open === null) {
      if (isFence) open = [line];
    } else {
      open.push(line);
      if (isFence) {
        blocks.push(open.join("\n"));
        open = null;
      }
    }
  }
  if (open !== null) throw new Error(`unclosed code fence: ${open[0]}`);
  return blocks;
}

/** The `##` headings (not `###`), in order, outside code blocks. */
function sectionHeadings(markdown: string): string[] {
  const headings: string[] = [];
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    else if (!inFence && line.startsWith("## ")) headings.push(line.slice(3).trim());
  }
  return headings;
}

describe("README.zh-CN.md stays in step with README.md", () => {
  test("both link to each other at the top", () => {
    const top = (text: string) => text.split("\n").slice(0, 5).join("\n");
    expect(top(english)).toContain("(README.zh-CN.md)");
    expect(top(chinese)).toContain("(README.md)");
  });

  test("the fenced code blocks are identical and in the same order", () => {
    const en = fencedBlocks(english);
    const zh = fencedBlocks(chinese);
    expect(en.length).toBeGreaterThan(10);
    // Compare one by one first so a failure names the first block that differs.
    for (let i = 0; i < Math.min(en.length, zh.length); i++) {
      expect({ block: i + 1, text: zh[i] }).toEqual({ block: i + 1, text: en[i] });
    }
    expect(zh.length).toBe(en.length);
  });

  test("every ## section has its counterpart, in the same order", () => {
    const en = sectionHeadings(english);
    const zh = sectionHeadings(chinese);
    for (const heading of en) {
      expect({ heading, mapped: heading in SECTIONS }).toEqual({ heading, mapped: true });
    }
    expect(zh).toEqual(en.map((heading) => SECTIONS[heading] ?? `(no mapping for ${heading})`));
  });

  test("the checks notice a change made to one file only", () => {
    const edited = english.replace("npm start    #", "npm start --verbose    #");
    expect(edited).not.toBe(english);
    expect(fencedBlocks(edited)).not.toEqual(fencedBlocks(chinese));
    const extraSection = `${english}\n## Troubleshooting\n\nText.\n`;
    expect(sectionHeadings(extraSection)).not.toEqual(sectionHeadings(english));
    expect(() => fencedBlocks("```sh\nnever closed\n")).toThrow("unclosed code fence");
  });
});
