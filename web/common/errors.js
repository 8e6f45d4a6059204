/**
 * Plain-words messages, in Chinese and English, for the stable error codes of the core
 * (the `code` of a thrown `EcertError`, and a verdict's `code`), of the ledger node and
 * offer server (`{"error": code}`), and of this folder's modules (camera, network).
 *
 *   import { errorText } from "../common/errors.js";
 *   try { ... } catch (e) { show(errorText(e, i18n.lang)); }
 *   errorText("revoked", "zh-CN");            // a code alone works too
 *
 * An unknown code falls back to the error's own `message` (English, from Rust).
 */

const M = {
  // The wallet and the core (web/core/src/lib.rs table).
  "wrong-passphrase": ["Wrong passphrase. Check it and try again.", "口令不正确，请检查后重试。"],
  "not-a-wallet-file": ["This file is not a wallet or wallet backup.", "这不是钱包文件或钱包备份。"],
  "unsupported-wallet-version": ["This wallet file was made by newer software. Update this app first.", "该钱包文件由更新版本的软件生成，请先更新本应用。"],
  "wallet-damaged": ["The wallet file is damaged and cannot be read.", "钱包文件已损坏，无法读取。"],
  "kdf-out-of-bounds": ["This file asks for unsafe or excessive key settings and was not opened.", "该文件的密钥参数不安全或过大，未打开。"],
  "weak-passphrase": ["Choose a passphrase of 8 to 1024 characters, not only spaces.", "请设置 8 至 1024 个字符、且不全是空格的口令。"],
  "not-a-package": ["This is not a certificate from a department.", "这不是部门签发的证件。"],
  "package-damaged": ["The certificate is damaged (or one of its one-time copies does not fit the others). Ask the department to send it again.", "证件已损坏（或其中某份一次性副本与其他副本不符），请让部门重新发送。"],
  "issued-to-another-wallet": ["This certificate was issued to another wallet, not to this one.", "该证件签发给了另一个钱包，不是本钱包。"],
  "no-copies-left": ["Every one-time copy of this certificate has been shown. Showing a copy again would let counters link your presentations: ask the department for new copies (open the certificate and tap “Ask for new copies”; they replace the used ones).", "此证件的一次性副本已全部出示。再次出示同一副本会让柜台把您的多次出示关联起来：请向签发部门申请新副本（打开证件，点按“申请新副本”；新副本将替换已用的副本）。"],
  "mixed-formats": ["A certificate issued as one-time copies cannot be shown in one QR code with a certificate of the older kind: show them as two QR codes, one after the other.", "以一次性副本签发的证件不能与旧式证件放在同一个二维码中出示：请分成两个二维码先后出示。"],
  "no-presentation": ["There is no QR code to renew (or the certificates changed): show a new one.", "没有可更新的二维码（或证件已有变动），请重新出示。"],
  "audience-only": ["This kind of certificate is shown only to counters registered for it (for example employers and government offices), and only in answer to their request: ask the counter to show its request code, then use “Answer a counter's request”. Nothing was shown.", "此类证件只能向为此登记的柜台（例如用人单位和政府办事处）出示，而且只能回应其请求：请柜台出示请求二维码，然后使用“回应柜台的请求”。未出示任何信息。"],
  // Counters that ask (requests and registrations, web/core/src/request.rs).
  "not-a-request": ["This is not a counter's request code: scan the counter's request again.", "这不是柜台的请求二维码：请重新扫描柜台的请求。"],
  "request-stale": ["The request is too old (or a clock is wrong): ask the counter for a new one.", "请求已过期（或时钟不准）：请柜台生成新的请求。"],
  "request-not-allowed": ["The counter asks for something its registration does not allow.", "柜台请求了其登记不允许请求的信息。"],
  "request-forged": ["The request was not signed by the registered counter.", "该请求不是由已登记的柜台签署的。"],
  "registration-forged": ["The counter's registration is forged: its department did not sign it.", "柜台的登记是伪造的：并非其部门签署。"],
  "registration-not-valid": ["The counter's registration is not valid now.", "柜台的登记目前无效。"],
  "registration-other-ledger": ["The counter is registered on another ledger.", "该柜台登记在另一个账本上。"],
  "registration-unknown-department": ["The counter's registration names a department or key the ledger does not list (check the status if the department is new).", "柜台的登记所列部门或密钥不在账本中（如果是新部门，请先检查状态）。"],
  "registration-other-key": ["This registration is for another counter's key, not this counter's.", "此登记文件属于另一个柜台的密钥，而非本柜台。"],
  "not-a-registration": ["This is not a counter registration file from a department.", "这不是部门签发的柜台登记文件。"],
  "no-request": ["There is no request to answer: scan the counter's request again.", "没有待回应的请求：请重新扫描柜台的请求。"],
  "not-recorded": ["This code could not be recorded in your wallet's history, so it was not made. Nothing was shown.", "此二维码无法写入钱包的记录，因此未生成。未出示任何信息。"],
  "nothing-to-show": ["Nothing is left to show in answer to this request. Nothing was shown.", "没有可回应此请求的信息。未出示任何信息。"],
  "refill-failed": ["The request for new copies could not be made.", "无法生成领取新副本的请求。"],
  "refill-other-certificate": ["The department answered with another certificate, not new copies of this one. Nothing was added.", "部门回复的是另一个证件，而不是此证件的新副本。未添加任何内容。"],
  "bad-address": ["This is not a server address: give it as https://HOST:PORT (for example https://10.1.2.3:8443).", "这不是服务器地址：请写成 https://主机:端口（例如 https://10.1.2.3:8443）。"],
  "no-such-certificate": ["That certificate is not in your wallet.", "钱包中没有该证件。"],
  "ambiguous-certificate": ["Several certificates match; choose one.", "有多个证件符合，请选择其中一个。"],
  "bad-choice": ["Choose at least one certificate (at most 8).", "请至少选择一个证件（最多 8 个）。"],
  "unknown-field": ["This kind of certificate has no such item.", "该类证件没有此项。"],
  "field-not-in-certificate": ["This certificate does not carry that item.", "该证件不包含此项。"],
  "bad-anchor": ["This is not a trust anchor file.", "这不是信任锚文件。"],
  "other-batch": ["The ledger's answer is about another batch of certificates.", "账本的回复是关于另一批证件的。"],
  "not-anchored": ["The ledger does not know this batch of certificates.", "账本中没有这一批证件。"],
  "older-data": ["This ledger data is older than the data already held; nothing was changed.", "该账本数据比已有数据旧，未做更改。"],
  "qr-not-found": ["No QR code found.", "未找到二维码。"],
  "qr-unreadable": ["The QR code could not be read. Hold it steady and closer.", "无法识别二维码，请拿稳并靠近一些。"],
  "qr-several": ["Several QR codes are in view; show only one.", "画面中有多个二维码，请只对准一个。"],
  "qr-too-large": ["Too much to fit in one QR code: choose fewer items.", "内容太多，无法放入一个二维码：请少选几项。"],
  "bad-argument": ["That input is not valid.", "输入无效。"],
  "internal": ["Something went wrong in this app. Please report it.", "本应用内部出错，请报告此问题。"],
  // Checking ledger data and codes (the verifier's reasons, the same as ecert-verify).
  "malformed": ["The data is damaged or not what was expected.", "数据已损坏或格式不对。"],
  "unsupported-version": ["Made by newer software: update this app.", "由更新版本的软件生成，请更新本应用。"],
  "unknown-kind": ["An unknown kind of certificate.", "未知的证件类型。"],
  "unknown-issuer": ["Issued by a department the ledger does not know.", "签发部门不在账本登记中。"],
  "unknown-issuer-key": ["Signed with a key the ledger does not know.", "签名密钥不在账本登记中。"],
  "issuer-not-entitled": ["This department may not issue this kind of certificate.", "该部门无权签发此类证件。"],
  "bad-issuer-signature": ["The department's signature is not genuine.", "部门签名无效。"],
  "issuer-key-not-valid": ["The department's key was not valid when this was issued.", "签发时部门密钥无效。"],
  "issuer-key-retired": ["The department's key has been retired.", "部门密钥已停用。"],
  "expired": ["The certificate has expired.", "证件已过期。"],
  "not-yet-valid": ["The certificate is not valid yet.", "证件尚未生效。"],
  "disclosure-mismatch": ["A shown item does not match the certificate.", "出示的信息与证件不符。"],
  "disclosure-invalid": ["A shown item is not valid.", "出示的信息无效。"],
  "holder-proof-missing": ["The wallet's proof is missing.", "缺少钱包的持有证明。"],
  "holder-proof-bad": ["The wallet's proof is not genuine: this code was not made by the certificate's wallet.", "持有证明无效：此二维码不是由证件所属钱包生成。"],
  "holder-proof-outside-window": ["The code is too old (or the phone's clock is wrong): show a fresh one.", "二维码已过时（或手机时间不准），请出示新的二维码。"],
  "nonce-mismatch": ["The code answers another counter's challenge.", "该二维码回应的是其他柜台的挑战码。"],
  "mixed-holders": ["The certificates belong to different people.", "这些证件属于不同的人。"],
  "anchor-proof-invalid": ["The proof that it is on record is not valid.", "登记证明无效。"],
  "header-unknown": ["Not on record in the ledger data held: sync and try again.", "在现有账本数据中没有登记，请同步后重试。"],
  "header-not-certified": ["The ledger's validators did not sign this data.", "该数据未经账本验证节点签署。"],
  "trust-data-mismatch": ["The node's data does not match what the validators signed.", "节点数据与验证节点签署的内容不符。"],
  "revoked": ["The certificate has been revoked by its department.", "证件已被签发部门撤销。"],
  "revocation-data-too-old": ["The ledger data is too old: sync first.", "账本数据过旧，请先同步。"],
  "freshness-not-confirmed": ["Too few ledger nodes vouch that the data is current.", "为数据时效作证的账本节点过少。"],
  "trust-list-not-approved": ["Too few national keys approved this national trust list.", "批准此全国信任列表的国家密钥过少。"],
  "trust-list-expired": ["The national trust list has expired: get the current one.", "全国信任列表已过期，请获取最新列表。"],
  "province-unknown": ["The certificate is from a province whose ledger is not trusted or not synced here.", "证件来自此处不信任或未同步账本的省份。"],
  "province-not-entitled": ["That province may not issue this kind of certificate.", "该省份无权签发此类证件。"],
  // Servers (ledger node, offer server).
  "unknown-offer": ["The department does not know this offer. Check the link or code.", "部门不认识此领取码，请检查链接或领取码。"],
  "offer-used": ["This offer was already collected. If the certificate is not in your wallet, tell the department.", "此领取码已被使用。如果钱包中没有该证件，请告知部门。"],
  "wrong-holder": ["This certificate was issued to another wallet, not to this one.", "该证件签发给了另一个钱包，不是本钱包。"],
  "bad-signature": ["The department refused this wallet's request. Update the app, then ask the department.", "部门拒绝了本钱包的请求。请更新应用后联系部门。"],
  "bad-request": ["The department could not read this wallet's request. Update the app, then try again.", "部门无法读取本钱包的请求。请更新应用后重试。"],
  "stale-request": ["The department refused the request because this phone's clock is wrong: set the date and time automatically, then try again.", "由于手机时钟不准，部门拒绝了请求：请将日期和时间设为自动，然后重试。"],
  "not-issued-here": ["This department did not issue this certificate to this wallet: ask the department that issued it.", "此部门没有向本钱包签发此证件：请向签发它的部门申请。"],
  "other-department": ["This server belongs to another department than the one that issued the certificate: check the address.", "此服务器属于另一个部门，而不是签发此证件的部门：请检查地址。"],
  "not-certified-yet": ["The ledger has not certified this yet: try again in a minute.", "账本尚未确认，请一分钟后重试。"],
  "not-found": ["The server does not offer this.", "服务器上没有此内容。"],
  // This folder's modules.
  "network": ["The server could not be reached. Check the connection and the address.", "无法连接服务器，请检查网络和地址。"],
  "bad-answer": ["The server's answer could not be used.", "服务器的回复无法使用。"],
  "bad-link": ["This is not an offer link from a department.", "这不是部门的证件领取链接。"],
  "camera-denied": ["The camera is not allowed. Allow it in the browser's site settings, or paste the link instead.", "未获准使用摄像头。请在浏览器的网站设置中允许，或改为粘贴链接。"],
  "camera-absent": ["No camera was found on this device.", "此设备上没有找到摄像头。"],
  "camera-busy": ["The camera is in use by another app.", "摄像头正被其他应用使用。"],
  "camera-insecure": ["The camera works only on a secure (https) page.", "摄像头只能在安全（https）页面中使用。"],
  "camera-failed": ["The camera could not be started.", "无法启动摄像头。"],
  "no-storage": ["This browser cannot store data here (private mode?).", "此浏览器无法在此保存数据（是否为隐私模式？）。"],
};

/** The codes with messages. */
export const ERROR_CODES = Object.keys(M);

/**
 * The plain-words message for `error` (an Error with `code`, an object `{error|code,
 * message}`, or a code string) in `lang` (`zh-CN` or `en`).
 */
export function errorText(error, lang = "en") {
  const code = typeof error === "string" ? error : error?.code ?? error?.error;
  const pair = code && M[code];
  if (pair) return lang === "zh-CN" ? pair[1] : pair[0];
  const own = typeof error === "string" ? error : error?.message;
  if (own) return own;
  return lang === "zh-CN" ? "出错了。" : "Something went wrong.";
}

/** An Error with a stable `code` (and the English message for it). */
export function codedError(code, detail) {
  const e = new Error(detail ? `${errorText(code)} (${detail})` : errorText(code));
  e.code = code;
  return e;
}
