// parse_mode as Telegram parses it: the cases and error texts below are Telegram's own (tdlib's
// message-entity tests and the Bot API documentation), so a drift from Telegram fails here.

import { describe, expect, test } from "bun:test";
import { formatText } from "../../sandbox/botapi-format.ts";

const html = (s: string) => formatText(s, "HTML", undefined);
const md2 = (s: string) => formatText(s, "MarkdownV2", undefined);
const md = (s: string) => formatText(s, "Markdown", undefined);
const error = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { description?: string }).description;
  }
  throw new Error("expected a parse error");
};

describe("HTML", () => {
  test("tags become entities with UTF-16 offsets", () => {
    expect(html('<b>Привет</b>, <i>мир</i> <a href="https://t.me/x">ссылка</a> <code>x</code>')).toEqual({
      text: "Привет, мир ссылка x",
      entities: [
        { type: "bold", offset: 0, length: 6 },
        { type: "italic", offset: 8, length: 3 },
        { type: "text_link", offset: 12, length: 6, url: "https://t.me/x" },
        { type: "code", offset: 19, length: 1 },
      ],
    });
    expect(html("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>")).toEqual({
      text: "🏟 🏟🏟 ><🏟",
      entities: [
        { type: "italic", offset: 5, length: 7 },
        { type: "bold", offset: 9, length: 3 },
      ],
    });
  });

  test("entities, spoilers, pre with a language, quotes, links without href", () => {
    expect(html("&ge;&lt;&gt;&amp;&quot;&laquo;&#12345678;").text).toBe('&ge;<>&"&laquo;&#12345678;');
    expect(html('<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>').entities.map((e) => e.type)).toEqual(["spoiler", "spoiler"]);
    expect(html('<pre><code class="language-fift">x</code></pre>').entities).toEqual([{ type: "pre", offset: 0, length: 1, language: "fift" }]);
    expect(html("<blockquote expandable>q</blockquote>").entities).toEqual([{ type: "expandable_blockquote", offset: 0, length: 1 }]);
    expect(html("<a>telegram.org</a>").entities).toEqual([{ type: "text_link", offset: 0, length: 12, url: "http://telegram.org/" }]);
    expect(html("<a>not a link</a>").entities).toEqual([]);
    expect(html("<b></b>x").entities).toEqual([]);
  });

  test("malformed markup is rejected with Telegram's texts and byte offsets", () => {
    const cases: [string, string][] = [
      ["🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"],
      ["🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'],
      ["🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'],
      ["🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'],
      ["🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"],
      ["🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"],
      ["🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"],
      ["🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'],
      ["&#57311;", "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"],
    ];
    for (const [source, message] of cases) expect(error(() => html(source))).toBe(`Bad Request: can't parse entities: ${message}`);
  });
});

describe("MarkdownV2", () => {
  test("nested entities, escapes, links, pre, quotes", () => {
    expect(md2("*жирный _курсив_* __подчёркнутый__ ~зачёркнутый~ ||спойлер|| `код` [ссылка](https://t.me/x)")).toEqual({
      text: "жирный курсив подчёркнутый зачёркнутый спойлер код ссылка",
      entities: [
        { type: "bold", offset: 0, length: 13 },
        { type: "italic", offset: 7, length: 6 },
        { type: "underline", offset: 14, length: 12 },
        { type: "strikethrough", offset: 27, length: 11 },
        { type: "spoiler", offset: 39, length: 7 },
        { type: "code", offset: 47, length: 3 },
        { type: "text_link", offset: 51, length: 6, url: "https://t.me/x" },
      ],
    });
    expect(md2("Версия 1\\.0\\!").text).toBe("Версия 1.0!");
    expect(md2("🏟 🏟```🏟\n🏟```")).toEqual({ text: "🏟 🏟🏟", entities: [{ type: "pre", offset: 5, length: 2, language: "🏟" }] });
    expect(md2("abc\n> \n> \n>\ndef")).toEqual({ text: "abc\n \n \n\ndef", entities: [{ type: "blockquote", offset: 4, length: 5 }] });
    expect(md2(">asd\n>q||e||w||\nasdad").entities).toEqual([
      { type: "expandable_blockquote", offset: 0, length: 8 },
      { type: "spoiler", offset: 5, length: 1 },
    ]);
    expect(md2("[telegram\\.org](asdasd)").entities).toEqual([]);
  });

  test("malformed markup is rejected with Telegram's texts and byte offsets", () => {
    const cases: [string, string][] = [
      ["Version 1.0", "Character '.' is reserved and must be escaped with the preceding '\\'"],
      ["🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"],
      ["🏟 🏟_abac * asd _", "Can't find end of Italic entity at byte offset 21"],
      ["🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"],
      ["🏟 🏟```🏟 🏟`", "Can't find end of Code entity at byte offset 21"],
      ["🏟 🏟_🏟 🏟__", "Can't find end of Underline entity at byte offset 19"],
      ["[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"],
      ["🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"],
      [">*b\n>ld \n>bo\nld*\nasd\ndef", "Can't find end of Bold entity at byte offset 1"],
      [">\n*a*>2", "Character '>' is reserved and must be escaped with the preceding '\\'"],
    ];
    for (const [source, message] of cases) expect(error(() => md2(source))).toBe(`Bad Request: can't parse entities: ${message}`);
  });
});

describe("legacy Markdown and the rest", () => {
  test("Markdown: no nesting, few escapes", () => {
    expect(md("*жирный* _курсив_ `код` [t](http://x.org) \\*")).toEqual({
      text: "жирный курсив код t *",
      entities: [
        { type: "bold", offset: 0, length: 6 },
        { type: "italic", offset: 7, length: 6 },
        { type: "code", offset: 14, length: 3 },
        { type: "text_link", offset: 18, length: 1, url: "http://x.org/" },
      ],
    });
    expect(error(() => md("a *b"))).toBe("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 2");
  });

  test("no parse_mode is plain text; entities win over parse_mode; unknown modes are refused", () => {
    expect(formatText("<b>x</b>", undefined, undefined)).toEqual({ text: "<b>x</b>", entities: [] });
    expect(formatText("<b>x</b>", "", undefined)).toEqual({ text: "<b>x</b>", entities: [] });
    expect(formatText("ab", "HTML", [{ type: "bold", offset: 1, length: 1 }])).toEqual({ text: "ab", entities: [{ type: "bold", offset: 1, length: 1 }] });
    expect(formatText("<b>x</b>", "html", undefined).text).toBe("x");
    expect(error(() => formatText("x", "BBCode", undefined))).toBe("Bad Request: unsupported parse_mode");
    expect(error(() => formatText("ab", undefined, [{ type: "bold", offset: 1, length: 5 }]))).toBe(
      "Bad Request: entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6",
    );
    expect(error(() => formatText("ab", undefined, [{ type: "sparkle", offset: 0, length: 1 }]))).toBe("Bad Request: can't parse MessageEntity: Unsupported type specified");
    expect(formatText("@ab", undefined, [{ type: "mention", offset: 0, length: 3 }]).entities).toEqual([]);
  });
});
