/**
 * Two languages, Chinese (zh-CN) and English (en): the browser's language first
 * (`navigator.languages`), then the person's choice, remembered on this device.
 *
 *   import { createI18n } from "../common/i18n.js";
 *   const i18n = createI18n({ en: { hello: "Hello, {name}" }, "zh-CN": { hello: "你好，{name}" } },
 *                           { storageKey: "ecert-wallet.lang" });
 *   i18n.t("hello", { name: "Li" });
 *   i18n.apply(document);        // fills [data-i18n], [data-i18n-attr]; sets <html lang>
 *   i18n.set("en");              // switches, remembers, re-applies, calls onChange listeners
 *   i18n.onChange((lang) => render());
 *   i18n.pick("National ID card", "居民身份证");   // the local text in Chinese when there is one
 *
 * Markup: `<h1 data-i18n="title"></h1>`, `<input data-i18n-attr="placeholder:hint,aria-label:hint">`.
 * A missing key falls back to English, then to the key itself.
 */

/** The languages offered, with their own names (for a switch). */
export const LANGUAGES = [
  { code: "zh-CN", name: "中文" },
  { code: "en", name: "English" },
];

/** The language of the browser's settings: zh-CN for any Chinese, otherwise English. */
export function browserLanguage() {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  for (const l of langs) {
    const lower = String(l).toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}

/**
 * An i18n object over `messages` (`{ en: {...}, "zh-CN": {...} }`). Options: `storageKey`
 * (localStorage key remembering the choice; none: not remembered), `lang` (force one).
 */
export function createI18n(messages, { storageKey = null, lang = null } = {}) {
  const listeners = new Set();
  let stored = null;
  try {
    stored = storageKey ? localStorage.getItem(storageKey) : null;
  } catch { /* storage blocked: follow the browser */ }
  let current = [lang, stored, browserLanguage()].find((l) => l && messages[l]) || "en";

  const i18n = {
    /** The current language code (`zh-CN` or `en`). */
    get lang() { return current; },
    /** Whether the current language is Chinese. */
    get zh() { return current === "zh-CN"; },
    /** The message `key` with `{name}` placeholders filled from `vars`. */
    t(key, vars) {
      const text = messages[current]?.[key] ?? messages.en?.[key] ?? key;
      return typeof text === "function" ? text(vars || {}) : fill(text, vars);
    },
    /** Whether `key` has a message. */
    has(key) {
      return key in (messages[current] || {}) || key in (messages.en || {});
    },
    /** The local (Chinese) text in Chinese when present, else the English one. */
    pick(english, local) {
      return current === "zh-CN" && local ? local : english;
    },
    /** Fills `[data-i18n]` text and `[data-i18n-attr]` attributes under `root`; sets `<html lang>`. */
    apply(root = document) {
      document.documentElement.lang = current;
      for (const el of root.querySelectorAll("[data-i18n]")) {
        el.textContent = i18n.t(el.dataset.i18n);
      }
      for (const el of root.querySelectorAll("[data-i18n-attr]")) {
        for (const pair of el.dataset.i18nAttr.split(",")) {
          const [attr, key] = pair.split(":").map((s) => s.trim());
          if (attr && key) el.setAttribute(attr, i18n.t(key));
        }
      }
    },
    /** Switches to `lang`, remembers it, re-applies the document and tells listeners. */
    set(lang) {
      if (!messages[lang]) return;
      current = lang;
      try {
        if (storageKey) localStorage.setItem(storageKey, lang);
      } catch { /* not remembered */ }
      i18n.apply(document);
      for (const f of listeners) f(lang);
    },
    /** Calls `listener(lang)` after each switch; returns a function that stops it. */
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** A date (seconds since 1970, or YYYY-MM-DD) in the current language. */
    date(value) {
      const d = typeof value === "number" ? new Date(value * 1000) : new Date(`${value}T00:00:00Z`);
      return d.toLocaleDateString(current, { dateStyle: "medium", timeZone: "UTC" });
    },
    /** A date and time (seconds since 1970) in the current language, local time. */
    dateTime(secs) {
      return new Date(secs * 1000).toLocaleString(current, { dateStyle: "medium", timeStyle: "short" });
    },
  };
  return i18n;
}

/**
 * A language switch button showing the other language's name; `i18n.set` on click.
 * Put it in a header: `header.append(languageButton(i18n))`.
 */
export function languageButton(i18n, { testid = "language" } = {}) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-quiet lang-switch";
  button.dataset.testid = testid;
  const label = () => {
    const other = LANGUAGES.find((l) => l.code !== i18n.lang);
    button.textContent = other.name;
    button.lang = other.code;
    button.setAttribute("aria-label", i18n.lang === "zh-CN" ? "Switch to English" : "切换到中文");
  };
  button.addEventListener("click", () => {
    i18n.set(LANGUAGES.find((l) => l.code !== i18n.lang).code);
  });
  i18n.onChange(label);
  label();
  return button;
}
