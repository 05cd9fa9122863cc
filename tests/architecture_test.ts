/**
 * The shape of the code, checked: no source file in the three rooms grows
 * past 800 lines, and no module imports, even for types, one that leads
 * back to itself.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ROOMS = ["protocol", "server", "client"];
const MAX_LINES = 800;

/** Every `.ts` file under `dir`, as file URLs. */
function tsFiles(dir: URL): URL[] {
  const files: URL[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) files.push(...tsFiles(url));
    else if (entry.name.endsWith(".ts")) files.push(url);
  }
  return files;
}

/** The local import graph of `files` and all they import, type-only imports included. */
async function importGraph(files: URL[]): Promise<Map<string, string[]>> {
  const dir = await Deno.makeTempDir();
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(entry, files.map((f) => `import "${f.href}";\n`).join(""));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`Cannot read the import graph: ${new TextDecoder().decode(stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(stdout));
    const entryUrl = new URL(`file://${entry}`).href;
    const graph = new Map<string, string[]>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith("file:") || module.specifier === entryUrl) continue;
      const targets = new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const kind of ["code", "type"]) {
          const target = dependency[kind]?.specifier;
          if (target?.startsWith("file:")) targets.add(target);
        }
      }
      graph.set(module.specifier, [...targets]);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Each circle in the graph, as the modules along it, the first repeated at the end. */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

function relative(url: string): string {
  return url.slice(ROOT.href.length);
}

Deno.test("no source file under protocol/, server/ or client/ is over 800 lines", () => {
  const long = ROOMS.flatMap((room) => tsFiles(new URL(`${room}/`, ROOT)))
    .map((file) => ({ file, lines: Deno.readTextFileSync(file).split("\n").length - 1 }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${relative(file.href)}: ${lines} lines`);
  assert.deepEqual(long, []);
});

Deno.test("no module of the package, its tests or its benchmarks imports its way back to itself", async () => {
  const files = [
    new URL("mod.ts", ROOT),
    ...["protocol", "server", "client", "tests", "bench", "examples"].flatMap((dir) =>
      tsFiles(new URL(`${dir}/`, ROOT))
    ),
  ];
  const graph = await importGraph(files);
  assert.ok(graph.size >= files.length, `only ${graph.size} modules in the graph`);
  assert.deepEqual(circles(graph).map((circle) => circle.map(relative).join(" -> ")), []);
});

Deno.test("the circle check finds a type-only circle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.ts`,
      `import type { B } from "./b.ts";\nexport type A = B;\n`,
    );
    await Deno.writeTextFile(
      `${dir}/b.ts`,
      `import { c } from "./c.ts";\nimport type { A } from "./a.ts";\nexport type B = A | number;\nexport const b = c;\n`,
    );
    await Deno.writeTextFile(`${dir}/c.ts`, `export const c = 1;\n`);
    const graph = await importGraph([new URL(`file://${dir}/a.ts`)]);
    const found = circles(graph).map((circle) => circle.map((url) => url.split("/").pop()));
    assert.deepEqual(found, [["a.ts", "b.ts", "a.ts"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
