import assert from "node:assert/strict";
import { AuthFile, AuthFileError } from "./_auth_file.ts";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

function parse(text: string): AuthFile {
  return AuthFile.parse(bytes(text), "users");
}

function accepts(file: AuthFile, user: string, password: string): boolean {
  return file.check(bytes(user), bytes(password));
}

Deno.test("AuthFile reads user:password lines, CRLF lines, and a last line without a newline", () => {
  const file = parse("alice:secret\r\nbob:hunter2\ncarol:pw");
  assert.equal(file.size, 3);
  assert.ok(accepts(file, "alice", "secret"));
  assert.ok(accepts(file, "bob", "hunter2"));
  assert.ok(accepts(file, "carol", "pw"));
  assert.ok(!accepts(file, "alice", "secret\r"));
});

Deno.test("AuthFile splits a line at its first ':' and ends the password at a CR", () => {
  const file = parse("alice:se:cret\nbob:pw\rignored\n");
  assert.ok(accepts(file, "alice", "se:cret"));
  assert.ok(!accepts(file, "alice:se", "cret"));
  assert.ok(accepts(file, "bob", "pw"));
  assert.ok(!accepts(file, "bob", "pw\rignored"));
});

Deno.test("AuthFile refuses a wrong password of any length and a user it does not list", () => {
  const file = parse("alice:secret\n");
  for (const password of ["", "s", "secreT", "secret ", "secretsecret"]) {
    assert.ok(!accepts(file, "alice", password), password);
  }
  assert.ok(!accepts(file, "mallory", "secret"));
  assert.ok(!accepts(file, "", ""));
});

Deno.test("AuthFile accepts each password listed for the same user, as memcached tries every line", () => {
  const file = parse("alice:old\nalice:new\n");
  assert.ok(accepts(file, "alice", "old"));
  assert.ok(accepts(file, "alice", "new"));
  assert.ok(!accepts(file, "alice", "other"));
});

Deno.test("AuthFile keeps every user and whole long lines, past memcached's 8 users and 255 bytes", () => {
  const long = "p".repeat(1000);
  const lines = Array.from({ length: 10_000 }, (_, i) => `user${i}:password${i}`);
  const file = parse(`${lines.join("\n")}\nlong:${long}\n`);
  assert.equal(file.size, 10_001);
  assert.ok(accepts(file, "user0", "password0"));
  assert.ok(accepts(file, "user8", "password8"));
  assert.ok(accepts(file, "user9999", "password9999"));
  assert.ok(!accepts(file, "user9999", "password0"));
  assert.ok(accepts(file, "long", long));
});

Deno.test("AuthFile with no lines lets nobody in", () => {
  const file = parse("");
  assert.equal(file.size, 0);
  assert.ok(!accepts(file, "alice", "secret"));
});

Deno.test("AuthFile refuses a line without ':', an empty line too, with memcached's message and the line", () => {
  for (
    const [text, line] of [
      ["alice:secret\nbob\n", 2],
      ["alice:secret\n\n", 2],
      ["\r\nalice:secret\n", 1],
      ["alice:sec\0ret\n", 1],
    ] as const
  ) {
    assert.throws(
      () => parse(text),
      (error: Error) =>
        error instanceof AuthFileError &&
        error.message ===
          `Authfile [users] has a malformed entry. Should be 'user:password' (line ${line})`,
      JSON.stringify(text),
    );
  }
});

Deno.test("AuthFile.readSync names the file and the OS error when it cannot be read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(
      () => AuthFile.readSync(`${dir}/missing`),
      (error: Error) =>
        error instanceof AuthFileError &&
        error.message ===
          `Could not open authfile [${dir}/missing] for reading, error No such file or directory`,
    );
    assert.throws(
      () => AuthFile.readSync(dir),
      (error: Error) =>
        error instanceof AuthFileError &&
        error.message.startsWith(`Could not open authfile [${dir}] for reading, error `),
    );
    await Deno.writeTextFile(`${dir}/users`, "alice:secret\n");
    assert.ok(accepts(await AuthFile.read(`${dir}/users`), "alice", "secret"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
