/**
 * The counter app words every reason of an INVALID verdict that `ecert-verify` knows, in
 * both languages: the codes are read from the real `ecert-verify verify --help` table.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./lib/tools.mjs";
import { REASON_CODES, reasonText } from "../counter/reasons.js";

test("every reason code of ecert-verify has a title and advice in English and Chinese", async () => {
  const { stdout } = await run("ecert-verify", ["verify", "--help"]);
  const codes = [...stdout.matchAll(/^\s+(\d{2})\s+([a-z][a-z-]+)\s/gm)]
    .filter(([, exit]) => Number(exit) >= 10)
    .map(([, , code]) => code);
  assert.ok(codes.length >= 30, `the exit-code table was read (${codes.length} codes)`);
  assert.deepEqual([...REASON_CODES].sort(), [...codes].sort(), "the same codes as ecert-verify");
  for (const code of codes) {
    for (const lang of ["en", "zh-CN"]) {
      const { title, advice } = reasonText(code, lang);
      assert.ok(title.length > 3 && advice.length > 3, `${code} in ${lang}`);
      if (lang === "zh-CN") assert.match(title + advice, /[\u4e00-\u9fff]/, `${code} in Chinese`);
    }
  }
  assert.equal(reasonText("revoked", "en").reject, true);
  assert.equal(reasonText("header-unknown", "en").reject, false);
  assert.match(reasonText("a-code-from-a-newer-core", "en").advice, /IT contact/);
});
