/**
 * What an INVALID verdict means and what counter staff should do, in English and
 * Chinese, for each reason code of the verifier (`ecert_verifier::VerifyError::code`, the
 * codes `ecert-verify` prints and maps to its exit codes). The check itself is the Rust
 * core's; this is only its wording for people. The English follows `ecert-verify`'s table
 * (`verifier/src/bin/ecert-verify/exit.rs`); `web/tests/counter-reasons.test.mjs` checks
 * that every code of `ecert-verify verify --help` is here.
 *
 *   import { reasonText } from "./reasons.js";
 *   const { title, advice, reject } = reasonText("revoked", "zh-CN");
 *
 * `reject`: the certificate must not be accepted (forged, revoked, another person's), as
 * opposed to a code that a fresh scan, a fresh code or a sync may fix.
 */

const GOVERNANCE = {
  en: ["ledger governance error, not expected at a counter", "A ledger governance error that should never reach a counter. Tell your IT contact."],
  zh: ["账本治理错误，柜台不应遇到", "这是不应出现在柜台的账本治理错误。请告知信息技术联系人。"],
};

// code: [reject, [en title, en advice], [zh title, zh advice]]
const R = {
  "malformed": [false,
    ["The code could not be read", "Scan again (steady, whole code visible). If it was typed, check Caps Lock and the keyboard layout. If it keeps failing, ask the citizen to show the code again from their wallet."],
    ["无法读取二维码", "请重新扫描（拿稳，完整显示二维码）。如为手工输入，请检查大写锁定和键盘布局。若仍失败，请市民在钱包中重新出示二维码。"]],
  "unsupported-version": [false,
    ["Made by newer software: update this counter", "The citizen's wallet is newer than this counter's software. Ask your IT contact to update the counter app."],
    ["由更新版本的软件生成：请更新本柜台应用", "市民的钱包比本柜台软件更新。请信息技术联系人更新柜台应用。"]],
  "unknown-kind": [false,
    ["Kind of certificate unknown to this counter", "Sync, then scan again. If it still fails, ask your IT contact to update the counter app."],
    ["本柜台不认识此类证件", "请同步后重新扫描。若仍失败，请信息技术联系人更新柜台应用。"]],
  "unknown-issuer": [true,
    ["Issuer is not registered", "The certificate claims to come from an office that is not a registered issuer. Do not accept it."],
    ["签发部门未登记", "证件声称来自未登记的签发部门。不要接受。"]],
  "unknown-issuer-key": [false,
    ["Issuer's key is not registered", "Signed with a key the ledger does not know. Sync, then scan again; if it still fails, do not accept it."],
    ["签发部门的密钥未登记", "签名所用密钥不在账本中。请同步后重新扫描；若仍失败，不要接受。"]],
  "issuer-not-entitled": [true,
    ["Issuer may not issue this kind", "The office that signed it may not issue this kind of certificate (for example an ID card from the transport bureau). Do not accept it."],
    ["签发部门无权签发此类证件", "签名部门无权签发此类证件（例如交通部门签发的身份证）。不要接受。"]],
  "bad-issuer-signature": [true,
    ["Certificate altered or forged", "The certificate was altered or forged. Do not accept it."],
    ["证件被篡改或伪造", "证件被篡改或伪造。不要接受。"]],
  "issuer-key-not-valid": [true,
    ["Issuer's key was not valid at issue", "The issuing office's key was not valid when the certificate was issued. Do not accept it; the citizen should contact the issuing office."],
    ["签发时部门密钥无效", "签发时签发部门的密钥无效。不要接受；请市民联系签发部门。"]],
  "expired": [true,
    ["Certificate expired", "Ask for a valid one; the citizen must renew it at the issuing office."],
    ["证件已过期", "请出示有效证件；市民须到签发部门更新。"]],
  "not-yet-valid": [false,
    ["Certificate not valid yet", "Check that this device's date is right; otherwise ask the citizen to come back once it is valid."],
    ["证件尚未生效", "请检查本设备的日期是否正确；否则请市民在证件生效后再来。"]],
  "disclosure-mismatch": [true,
    ["A shown value was altered", "A shown value was changed after the certificate was issued. Do not accept it."],
    ["出示的信息被篡改", "证件签发后出示的信息被改动。不要接受。"]],
  "disclosure-invalid": [false,
    ["A shown field is not valid", "Ask the citizen to make a new code; if it fails again, do not accept it."],
    ["出示的信息无效", "请市民重新生成二维码；若再次失败，不要接受。"]],
  "holder-proof-missing": [false,
    ["Not signed by a wallet", "Ask the citizen to show the code from their own wallet app."],
    ["没有钱包签名", "请市民用本人的钱包应用出示二维码。"]],
  "holder-proof-bad": [true,
    ["Not shown by the certificate's own wallet", "The code was not made by the wallet the certificate belongs to (a copied certificate). Do not accept it."],
    ["不是由证件所属钱包出示", "二维码不是由证件所属的钱包生成（复制的证件）。不要接受。"]],
  "holder-proof-outside-window": [false,
    ["Code too old (screenshot?) or phone clock wrong", "Ask the citizen to make a fresh code now, and check the time on their phone and on this device."],
    ["二维码已过时（截图？）或手机时间不准", "请市民现在重新生成二维码，并核对其手机和本设备的时间。"]],
  "nonce-mismatch": [false,
    ["Does not answer this counter's challenge", "Start a new challenge, let the citizen scan it and ask for a new code made with it."],
    ["未回应本柜台的挑战码", "请重新发起挑战，让市民扫描后用它生成新的二维码。"]],
  "mixed-holders": [true,
    ["Certificates of different people", "The code holds certificates of different people. Do not accept it; each person shows their own code."],
    ["包含不同人的证件", "二维码中包含不同人的证件。不要接受；每人须出示自己的二维码。"]],
  "anchor-proof-invalid": [true,
    ["Not on record in the ledger", "The certificate is not on record in the ledger. Do not accept it."],
    ["账本中没有登记", "该证件未在账本中登记。不要接受。"]],
  "header-unknown": [false,
    ["Issued after this counter's last sync", "Sync now, then scan again."],
    ["在本柜台上次同步之后签发", "请立即同步，然后重新扫描。"]],
  "header-not-certified": [false,
    ["Data not certified by the trusted validators", "Do not use this data: sync from another ledger node, or ask the department running the ledger."],
    ["数据未经受信任的验证节点认证", "不要使用此数据：请从其他账本节点同步，或询问运行账本的部门。"]],
  "trust-data-mismatch": [false,
    ["Data does not match what was certified", "The data is damaged, altered, or for another ledger. Sync from another ledger node."],
    ["数据与认证内容不符", "数据已损坏、被改动或属于其他账本。请从其他账本节点同步。"]],
  "revoked": [true,
    ["Certificate revoked", "The issuing office has revoked this certificate. Do not accept it; the citizen should contact the issuing office."],
    ["证件已被撤销", "签发部门已撤销此证件。不要接受；请市民联系签发部门。"]],
  "revocation-data-too-old": [false,
    ["This counter's ledger data is too old: sync", "Sync, then scan again."],
    ["本柜台的账本数据过旧：请同步", "请同步后重新扫描。"]],
  "freshness-not-confirmed": [false,
    ["The ledger no longer confirms its data is current", "Too few ledger nodes vouch for the newest data: more than a third are down or cut off. This counter's data keeps working until it is too old; tell your IT contact."],
    ["账本不再确认数据为最新", "为最新数据作证的账本节点过少：超过三分之一的节点已停止或断开。本柜台的数据在过旧之前仍可使用；请告知信息技术联系人。"]],
  "trust-list-not-approved": [false,
    ["National trust list not approved", "Too few of the national body's keys approved this list: do not use it. Get the list again; if it is refused again, tell your IT contact."],
    ["全国信任列表未获批准", "批准此列表的国家机构密钥过少：不要使用。请重新获取列表；如仍被拒绝，请告知信息技术联系人。"]],
  "trust-list-expired": [false,
    ["National trust list expired", "Sync the current national trust list. Until then certificates of other provinces cannot be checked."],
    ["全国信任列表已过期", "请同步最新的全国信任列表。在此之前无法核验其他省份的证件。"]],
  "province-unknown": [false,
    ["Certificate from a province this counter has no data for", "If the province is on the national trust list, sync it and check again; if not, do not accept it."],
    ["证件来自本柜台没有数据的省份", "如该省份在全国信任列表中，请同步后重新核验；否则不要接受。"]],
  "province-not-entitled": [true,
    ["That province may not issue this kind of certificate", "The national trust list does not let that province issue this kind. Do not accept it; ask for another proof."],
    ["该省份无权签发此类证件", "全国信任列表不允许该省份签发此类证件。不要接受；请市民出示其他证明。"]],
  "transaction-refused": [false,
    ["Ledger error, not expected at a counter", "A ledger error that should never reach a counter. Tell your IT contact."],
    ["账本错误，柜台不应遇到", "这是不应出现在柜台的账本错误。请告知信息技术联系人。"]],
};

for (const code of [
  "too-few-approvals", "unknown-validator", "duplicate-approval", "bad-approval-signature",
  "governance-seq-mismatch", "issuer-already-registered", "issuer-key-already-registered",
  "kind-already-registered", "issuer-key-retired",
]) {
  R[code] = [false, GOVERNANCE.en, GOVERNANCE.zh];
}

/** Every reason code with a text. */
export const REASON_CODES = Object.keys(R);

/**
 * The title and advice for reason `code` in `lang` (`zh-CN` or `en`), and whether the
 * certificate must be rejected outright. An unknown code (newer core) gets a general text.
 */
export function reasonText(code, lang = "en") {
  const zh = lang === "zh-CN";
  const entry = R[code];
  if (!entry) {
    return zh
      ? { title: "无效", advice: "不要接受，并将此信息告知信息技术联系人。", reject: true }
      : { title: "Not valid", advice: "Do not accept it, and tell your IT contact about this message.", reject: true };
  }
  const [reject, en, cn] = entry;
  const [title, advice] = zh ? cn : en;
  return { title, advice, reject };
}
