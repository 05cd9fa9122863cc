/**
 * Byte transcripts for the differential test: each is sent as is to Debian's
 * memcached and to our server, and both must answer alike. They are grouped
 * by the flags both servers start with.
 *
 * A turn is Latin-1 text (so any byte can be written), or a list of chunks
 * written apart. Text like `<cas:k>` in a turn becomes the cas unique that
 * this server last returned for key `k` earlier in the same transcript, and
 * `<cas:k+1>` one more than that, so cas commands can hit and miss on purpose.
 *
 * @module
 */

/** One write, or chunks written a few milliseconds apart, or a pause. */
export type Turn = string | string[] | { pauseMs: number };

/** A named conversation on one connection. */
export interface Transcript {
  /** What the replies show; the test step's name. */
  name: string;
  /** Sent in order on one connection; the server is read until quiet after each. */
  turns: Turn[];
}

/** Transcripts that run against one pair of servers started with the same flags. */
export interface TranscriptGroup {
  /** What the group covers, for the test name. */
  name: string;
  /** Flags given to both servers (memcached's spelling). */
  args: string[];
  /**
   * Whether to `flush_all` both servers before each transcript. Groups that
   * cannot (stats counters, -C where a flush also drops items stored later in
   * the same second) give each transcript its own keys instead.
   */
  flushBefore: boolean;
  transcripts: Transcript[];
}

const K250 = "k".repeat(250);
const K251 = "k".repeat(251);
/** A `get` line whose key list is over 3000 bytes, hitting k5 and k500 among misses. */
const LONG_GET = `get ${Array.from({ length: 600 }, (_, i) => `k${i}`).join(" ")}`;
const LONG_GET_SETUP = "set k5 5 0 2\r\nv5\r\nset k500 500 0 4\r\nv500\r\n";

/** The value-size limit with `-I 2m`: 2 MiB less memcached's item header (48), cas (8), key "k" and its NUL (2) and the CRLF (2). */
const BIG_MAX = 2 * 1024 * 1024 - 60;

function set(key: string, value: string, flags = 0, exptime = 0): string {
  return `set ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`;
}

/** 100 sets then one get of all of them and one miss, for pipelining. */
function pipelined(): string {
  let text = "";
  const keys: string[] = [];
  for (let i = 0; i < 100; i++) {
    keys.push(`p${i}`);
    text += set(`p${i}`, `value-${i}`, i);
  }
  return `${text}get ${keys.join(" ")} missing\r\ndelete p7\r\nincr p3 1\r\nversion\r\n`;
}

/** Chunk boundaries inside a command word, between CR and LF, inside a data block and before its CRLF. */
const SPLIT_TRANSCRIPT = [
  "se",
  "t k 3 0 5\r",
  "\nhel",
  "lo",
  "\r\nget k",
  " k\r\nappend k 0 0 1\r\n!",
  "\r",
  "\ngets k\r\ndel",
  "ete k\r\nget k\r\n",
];

export const GROUPS: TranscriptGroup[] = [
  {
    name: "storage, retrieval, errors and connection handling with default flags",
    args: [],
    flushBefore: true,
    transcripts: [
      // Storage commands.
      {
        name: "set stores, overwrites, keeps flags and accepts an empty value",
        turns: [`${set("k", "a")}${set("k", "abc", 7)}${set("e", "")}get k e\r\n`],
      },
      {
        name: "add answers STORED for a missing key and NOT_STORED for a present one",
        turns: [`add k 1 0 1\r\na\r\nadd k 2 0 1\r\nb\r\nget k\r\n`],
      },
      {
        name: "replace answers NOT_STORED for a missing key and STORED for a present one",
        turns: [
          `replace k 1 0 1\r\na\r\nget k\r\n${set("k", "a")}replace k 2 0 1\r\nb\r\nget k\r\n`,
        ],
      },
      {
        name: "append and prepend need a present key and keep its flags",
        turns: [
          "append q 0 0 1\r\nx\r\nprepend q 0 0 1\r\nx\r\n" +
          `${set("z", "ZZ", 3)}append z 9 0 1\r\n>\r\nprepend z 9 0 1\r\n<\r\ngets z\r\n`,
        ],
      },
      {
        name:
          "cas answers STORED for the current unique, EXISTS for a stale one, NOT_FOUND for a missing key",
        turns: [
          `${set("k", "a")}gets k\r\n`,
          "cas k 5 0 1 <cas:k>\r\nb\r\ncas k 0 0 1 <cas:k>\r\nc\r\ncas missing 0 0 1 1\r\nx\r\ngets k\r\n",
          "cas k 0 0 1 <cas:k+1>\r\nd\r\ncas k 6 0 1 <cas:k>\r\ne\r\ngets k\r\n",
        ],
      },
      {
        name: "every storage command with noreply answers nothing, and still stores",
        turns: [
          "set k 0 0 1 noreply\r\na\r\nadd k 0 0 1 noreply\r\nb\r\nadd n 0 0 1 noreply\r\nn\r\n" +
          "replace k 0 0 1 noreply\r\nc\r\nreplace m 0 0 1 noreply\r\nm\r\n" +
          "append k 0 0 1 noreply\r\nd\r\nprepend k 0 0 1 noreply\r\ne\r\n" +
          "cas m 0 0 1 1 noreply\r\nf\r\ngets k n m\r\n",
          "cas k 0 0 1 <cas:k+1> noreply\r\ng\r\ncas k 0 0 1 <cas:k> noreply\r\nh\r\nget k\r\n",
        ],
      },
      {
        name: "a negative exptime stores an item that has already expired",
        turns: [`${set("k", "a", 0, -1)}get k\r\nadd k 0 0 1\r\nb\r\nget k\r\n`],
      },
      {
        name: "an exptime over 30 days is a Unix time, and one in the past expires at once",
        turns: [
          `${set("month", "a", 0, 2592000)}${set("past", "b", 0, 2592001)}` +
          `${set("wrapped", "c", 0, 9999999999)}${set("negative32", "d", 0, 2147483648)}` +
          "get month past wrapped negative32\r\n",
        ],
      },
      {
        name: "a value holding CR, LF, NUL and high bytes comes back unchanged",
        turns: [`${set("bin", "a\r\nb\0c\xff\x80\r")}get bin\r\n`],
      },
      // Retrieval.
      {
        name: "get with one key answers a hit and a miss",
        turns: [`${set("k", "a", 3)}get k\r\nget nope\r\n`],
      },
      {
        name: "get with many keys returns the hits in request order",
        turns: [`${set("a", "A", 1)}${set("b", "BB", 2)}${set("c", "", 3)}get c x a y b z\r\n`],
      },
      {
        name: "get and gets return a repeated key each time it is asked for",
        turns: [`${set("a", "A")}get a a x a\r\ngets a a\r\n`],
      },
      {
        name: "get and gets without a key are ERROR",
        turns: ["get\r\ngets\r\nget \r\ngets  \r\n"],
      },
      {
        name: "gets gives one item the same unique each time and a new one after each store",
        turns: [`${set("a", "A")}${set("b", "B")}gets a b a\r\n${set("a", "Z")}gets a b\r\n`],
      },
      {
        name: "gat and gats read and touch, gat -1 expires the item after reading it",
        turns: [
          `${set("a", "A", 1)}${set("b", "B", 2)}gat 0 a b c\r\ngats 0 a a\r\ngat 100\r\n` +
          "gat\r\ngats\r\ngat x a\r\ngat -1 a\r\nget a\r\ngats 0 b\r\n",
        ],
      },
      {
        name: "touch answers TOUCHED or NOT_FOUND, and touch -1 expires the item",
        turns: [
          `${set("t", "T")}touch t 0\r\ntouch t 10 noreply\r\ntouch u 0\r\ntouch u 0 noreply\r\n` +
          "touch t\r\ntouch t x\r\ntouch t 0 0\r\ntouch t -1\r\nget t\r\ntouch t 0\r\n",
        ],
      },
      // Delete.
      {
        name:
          "delete answers DELETED then NOT_FOUND, also with a 0 hold time, silently with noreply",
        turns: [
          `${set("k", "a")}delete k\r\ndelete k\r\n${set("k", "a")}delete k 0\r\ndelete k 0\r\n` +
          `${set("k", "a")}delete k noreply\r\ndelete k noreply\r\nget k\r\n` +
          `${set("k", "a")}delete k 0 noreply\r\nget k\r\n`,
        ],
      },
      {
        name:
          "delete with a nonzero hold time is a CLIENT_ERROR, with more tokens ERROR, and keeps the item",
        turns: [
          `${set("k", "a")}delete k 5\r\ndelete k 5 noreply\r\ndelete k x\r\ndelete k 0 0\r\n` +
          "delete k 0 noreply x\r\ndelete\r\nget k\r\n",
        ],
      },
      // Incr and decr.
      {
        name: "incr wraps around at 2^64",
        turns: [
          `${set("n", "18446744073709551615", 5)}incr n 1\r\nget n\r\n` +
          "incr n 18446744073709551615\r\nget n\r\nincr n 2\r\nget n\r\n",
        ],
      },
      {
        name: "decr stops at 0 and pads a shorter result with spaces, incr grows it",
        turns: [
          `${set("n", "100")}decr n 1\r\nget n\r\nincr n 1\r\nget n\r\ndecr n 1000\r\nget n\r\n` +
          "incr n 12345\r\nget n\r\ndecr n 12340\r\ngets n\r\n",
        ],
      },
      {
        name:
          "incr and decr keep the flags, change the cas unique and read leading spaces and signs",
        turns: [
          `${set("m", "9", 42)}gets m\r\nincr m 1\r\ngets m\r\n${set("s", " 12")}incr s 1\r\n` +
          `${set("t", "12 ")}incr t 1\r\nincr t +1\r\nincr t 01\r\ndecr t -0\r\nget s t\r\n`,
        ],
      },
      {
        name: "incr and decr on a non-numeric value are a CLIENT_ERROR",
        turns: [
          `${set("a", "a")}incr a 1\r\ndecr a 1\r\n${set("neg", "-1")}incr neg 1\r\n` +
          `${set("empty", "")}incr empty 1\r\n${set("big", "18446744073709551616")}incr big 1\r\n` +
          `${set("mixed", "1a")}incr mixed 1\r\n${
            set("n", "10")
          }append n 0 0 1\r\nx\r\ndecr n 1\r\n`,
        ],
      },
      {
        name: "incr and decr with an invalid delta are a CLIENT_ERROR",
        turns: [
          `${set("n", "1")}incr n x\r\nincr n -1\r\ndecr n 18446744073709551616\r\n` +
          "incr n 1x\r\nget n\r\n",
        ],
      },
      {
        name: "incr and decr on a missing key answer NOT_FOUND, and nothing with noreply",
        turns: [
          "incr nope 1\r\ndecr nope 1\r\nincr nope 1 noreply\r\n" +
          `${set("n", "1")}incr n 5 noreply\r\ndecr n 1 noreply\r\nget n\r\n`,
        ],
      },
      {
        name:
          "incr and decr with too few tokens or two extra tokens are ERROR, one extra token is ignored",
        turns: [
          `${set("n", "1")}incr\r\nincr n\r\ndecr n\r\nincr n 1 noreply x\r\nincr n 1 2\r\n` +
          "decr n 1 x\r\nget n\r\n",
        ],
      },
      // flush_all, version, verbosity, shutdown.
      {
        name: "flush_all empties the cache now, and with noreply answers nothing",
        turns: [
          `${set("a", "A")}${set("b", "B")}flush_all\r\nget a b\r\n${set("c", "C")}get c\r\n` +
          "flush_all noreply\r\nget c\r\n",
        ],
      },
      {
        name: "flush_all with 0 or a negative delay flushes now, a bad delay is a CLIENT_ERROR",
        turns: [
          `${set("a", "A")}flush_all 0\r\nget a\r\n${set("b", "B")}flush_all -1\r\nget b\r\n` +
          `${set("c", "C")}flush_all x\r\nflush_all 1 2\r\nflush_all 0 noreply x\r\nget c\r\n`,
        ],
      },
      {
        name: "flush_all 1 drops the items stored before it at once",
        turns: [`${set("a", "A")}flush_all 1\r\nget a\r\n`],
      },
      {
        name: "flush_all with a delay of a few seconds leaves items readable for now",
        turns: [`${set("a", "A")}flush_all 3\r\nget a\r\n`],
      },
      {
        name: "version answers VERSION 1.6.18, with or without an argument",
        turns: ["version\r\nversion x\r\n"],
      },
      {
        name: "verbosity answers OK, nothing with noreply, and errors for other forms",
        turns: [
          "verbosity 1\r\nverbosity 0 noreply\r\nverbosity\r\nverbosity x\r\nverbosity 1 2\r\n" +
          "verbosity 1 noreply x\r\nverbosity 0\r\n",
        ],
      },
      {
        name: "shutdown without -A is refused",
        turns: ["shutdown\r\nshutdown graceful\r\nshutdown x y\r\nversion\r\n"],
      },
      // Error paths.
      {
        name: "an unknown command is ERROR",
        turns: ["bogus\r\nGET k\r\nsets k 0 0 1\r\nx\r\nversion\r\n"],
      },
      {
        name: "an empty line is ERROR, with CRLF or LF alone",
        turns: ["\r\n\n \r\nversion\r\n"],
      },
      {
        name: "storage commands with too many tokens are ERROR, and their data line too",
        turns: [
          "set k 0 0 1 noreply extra\r\na\r\ncas k 0 0 1 1 noreply extra\r\na\r\n" +
          `set k 0 0 1 ${"x ".repeat(30)}\r\na\r\nget k\r\n`,
        ],
      },
      {
        name: "commands with too few tokens are ERROR",
        turns: [
          "set k 0 0\r\nset\r\ncas k 0 0 1\r\na\r\nadd k\r\ntouch k\r\ntouch\r\ndelete\r\n" +
          "gat 0\r\nincr\r\nversion\r\n",
        ],
      },
      {
        name: "bad flags, exptime, length or cas are a CLIENT_ERROR and the data line is a command",
        turns: [
          "set k x 0 1\r\na\r\nset k -1 0 1\r\na\r\nset k 0x1 0 1\r\na\r\nset k 18446744073709551616 0 1\r\na\r\n" +
          "set k 0 x 1\r\na\r\nset k 0 0 x\r\na\r\nset k 0 0 1a\r\na\r\ncas k 0 0 1 x\r\na\r\n" +
          "cas k 0 0 1 -1\r\na\r\ncas k 0 0 1 18446744073709551616\r\na\r\n" +
          "cas k 0 0 1 18446744073709551615\r\na\r\nget k\r\n",
        ],
      },
      {
        name: "numbers may carry a plus sign or leading zeros",
        turns: ["set k 01 +0 +1\r\na\r\nset j 0 0 -0\r\n\r\ngets k j\r\n"],
      },
      {
        name: "a negative length is a CLIENT_ERROR and the data line is read as a command",
        turns: ["set k 0 0 -1\r\na\r\nset k 0 0 -1 noreply\r\nget k\r\n"],
      },
      {
        name: "a length near 2^31 is a CLIENT_ERROR and nothing is swallowed",
        turns: [
          "set k 0 0 2147483647\r\nx\r\nset k 0 0 2147483646\r\nx\r\n" +
          "set k 0 0 4294967295\r\nget k\r\n",
        ],
      },
      {
        name:
          "lengths and flags are cut to 32 bits: a length of 4294967301 reads 5 bytes, flags 4294967297 are 1",
        turns: [
          "set k 0 0 4294967301\r\nhello\r\nget k\r\nset k 4294967297 0 1\r\na\r\nget k\r\n" +
          "set e 4294967296 0 4294967296\r\n\r\nget e\r\n",
        ],
      },
      {
        name: "a 250-byte key works and a 251-byte key is a CLIENT_ERROR in every command",
        turns: [
          `${set(K250, "a")}get ${K250}\r\n${set(K251, "a")}delete ${K251}\r\n` +
          `incr ${K251} 1\r\ndecr ${K251} 1\r\ntouch ${K251} 0\r\nappend ${K251} 0 0 1\r\na\r\n` +
          `cas ${K251} 0 0 1 1\r\na\r\nset ${K251} 0 0 1 noreply\r\na\r\nversion\r\n`,
          // Each get-family command in a write of its own: see the transcript after the next.
          `get ${K251}\r\n`,
          `gets ${K251}\r\n`,
          `gat 0 ${K251}\r\n`,
          `gats 0 ${K251}\r\nversion\r\n`,
        ],
      },
      {
        name: "a 251-byte key in a get list answers only CLIENT_ERROR, not the hits before it",
        turns: [
          `${set("a", "A")}${set("b", "B")}`,
          `get a ${K251} b\r\nget b\r\n`,
          `gets b ${K251}\r\n`,
        ],
      },
      {
        // memcached 1.6.18 sends replies when a get-family command completes or
        // the input runs dry; a get that fails on its key length drops every
        // reply still queued.
        name: "a 251-byte key in a get drops the replies queued since the last completed get",
        turns: [
          `version\r\n${
            set("a", "A")
          }get a ${K251} b\r\nversion\r\nget a\r\nversion\r\ngat 0 ${K251}\r\n`,
        ],
      },
      {
        // memcached's first turn of a read serves 21 requests, later turns 20 (-R).
        name: "a 251-byte key in a get drops what follows the 21st and then every 20th request",
        turns: [
          `${"version\r\n".repeat(20)}get ${K251}\r\n`,
          `${"version\r\n".repeat(21)}get ${K251}\r\n`,
          `${"version\r\n".repeat(22)}get ${K251}\r\n`,
          `${"version\r\n".repeat(41)}get ${K251}\r\n`,
          `${"version\r\n".repeat(45)}get ${K251}\r\n`,
        ],
      },
      {
        name:
          "a data block that does not end in CRLF is a bad data chunk, the old value stays and the stream goes on",
        turns: [
          `set k 0 0 1\r\nab\r\nget k\r\n${set("k", "ok")}set k 0 0 1\r\nabc\r\nget k\r\n` +
          "set k 0 0 2\r\nab\n\r\nget k\r\nset k 0 0 1 noreply\r\nxy\r\nget k\r\n",
        ],
      },
      {
        // memcached flushes when it needs more of a command line, never inside a data block.
        name: "no reply is written while a data block is unfinished, but a completed get's is",
        turns: ["version\r\nset k 0 0 10\r\nabc", "defg", "hij\r\nversion\r\nset j 0 0 3\r\nab"],
      },
      {
        // memcached reads 16 KiB at a time, and the rest of a longer data block straight into its item.
        name: "a write over 16 KiB is answered in memcached's reads: what a bad get drops",
        turns: [
          `version\r\nset big 0 0 20000\r\n${"x".repeat(20000)}\r\nversion\r\nget ${K251}\r\n`,
          `${"version\r\n".repeat(2000)}get ${K251}\r\n`,
        ],
      },
      {
        name: "a completed get's reply is written before a data block that never ends",
        turns: ["version\r\nget k\r\nversion\r\nset k 0 0 10\r\nabc"],
      },
      {
        name: "a NUL byte in a command line",
        turns: [
          "get a\0b\r\nset a\0b 0 0 1\r\nx\r\nget a\0b\r\n\0version\r\nversion\0\r\n" +
          "set k\0 0 0 1\r\nx\r\nget k\r\n",
        ],
      },
      {
        name: "leading and repeated spaces between tokens are ignored, a tab is not a separator",
        turns: [
          `   ${set("k", "a")}   get k\r\nget  k   k \r\nset  j  1  0  1 \r\nb\r\nget j\r\n` +
          "get\tk\r\ndelete\tk\r\nversion\r\n",
        ],
      },
      {
        name: "lines may end in LF alone, but a data block must end in CRLF",
        turns: [
          "set k 0 0 1\na\r\nget k\nversion\ndelete k\nset j 0 0 1\r\nb\nget j\r\n" +
          "set k 0 0 1\na\nget k\n",
        ],
      },
      // Pipelining and split packets.
      {
        name: "200 pipelined commands in one write are answered in order",
        turns: [pipelined()],
      },
      {
        name:
          "a transcript split inside words, between CR and LF and inside data gives the same replies",
        turns: [SPLIT_TRANSCRIPT],
      },
      {
        name: "a transcript sent one byte at a time gives the same replies",
        turns: [Array.from("set k 0 0 5\r\nhello\r\nget k\r\nincr k 1\r\ndelete k\r\n")],
      },
      // Connection handling.
      {
        name: "quit closes the connection and nothing after it is answered",
        turns: [`${set("k", "a")}quit\r\nget k\r\n`],
      },
      {
        name: "quit with an argument also closes the connection",
        turns: ["version\r\nquit now\r\nversion\r\n"],
      },
      {
        name: "2049 bytes without a newline close the connection",
        turns: ["x".repeat(2049)],
      },
      {
        name: "2048 bytes without a newline wait for the rest of the line",
        turns: ["x".repeat(2048), "\r\nversion\r\n"],
      },
      {
        name: "a get line of over 3000 bytes is served",
        turns: [`${LONG_GET_SETUP}${LONG_GET}\r\nversion\r\n`],
      },
      {
        name: "a get line of over 2048 bytes may arrive before its newline",
        turns: [LONG_GET_SETUP + LONG_GET, "\r\nversion\r\n"],
      },
      {
        name:
          "a long get line arriving without its newline after over 100 spaces closes the connection",
        turns: [" ".repeat(101) + LONG_GET, "\r\nversion\r\n"],
      },
    ],
  },
  {
    name: "item size limits with -m 64 -I 2m",
    args: ["-m", "64", "-I", "2m"],
    flushBefore: true,
    transcripts: [
      {
        name: "the largest value -I 2m allows is stored, and one byte more is too large",
        turns: [
          `set k 0 0 ${BIG_MAX}\r\n${"x".repeat(BIG_MAX)}\r\nget k\r\n` +
          `set k 0 0 ${BIG_MAX + 1}\r\n${"y".repeat(BIG_MAX + 1)}\r\nget k\r\n`,
        ],
      },
      {
        name: "a too-large set swallows its data, answers SERVER_ERROR and removes the old value",
        turns: [
          `${set("k", "old")}set k 0 0 2097153\r\n${"x".repeat(2097153)}\r\nget k\r\nversion\r\n`,
        ],
      },
      {
        name: "a too-large set answers only once its data has been skipped",
        turns: [
          "version\r\nset k 0 0 2097153\r\nabc",
          `${"x".repeat(1000)}`,
          `${"x".repeat(2097153 - 1003)}\r\nversion\r\nset k 0 0 2097153\r\n`,
        ],
      },
      {
        // memcached counts a request once its data is read, so the turn's write waits for it too.
        name:
          "a too-large set as the 21st request holds the 20 replies before it until it is skipped",
        turns: [
          `${"version\r\n".repeat(20)}set k 0 0 2097153\r\nabc`,
        ],
      },
      {
        name: "a too-large set with noreply also removes the old value",
        turns: [
          `${set("k", "old")}set k 0 0 2097153 noreply\r\n${"x".repeat(2097153)}\r\nget k\r\n`,
        ],
      },
      {
        name: "appending past the limit fails and keeps the value",
        turns: [
          `set k 0 0 ${BIG_MAX - 100}\r\n${"x".repeat(BIG_MAX - 100)}\r\n` +
          `append k 0 0 200\r\n${"y".repeat(200)}\r\nprepend k 0 0 200 noreply\r\n` +
          `${"z".repeat(200)}\r\nappend k 0 0 100\r\n${"y".repeat(100)}\r\nget k\r\n`,
        ],
      },
      {
        name: "stats settings reports the -m and -I limits",
        turns: ["stats settings\r\n"],
      },
    ],
  },
  {
    name: "cas uniques with -C",
    args: ["-C"],
    flushBefore: false,
    transcripts: [
      {
        name: "with -C, gets and gats report a cas unique of 0",
        turns: [`${set("c1", "7")}gets c1\r\ngats 0 c1\r\nincr c1 1\r\ngets c1\r\n`],
      },
      {
        name: "with -C, cas answers EXISTS for a present key and NOT_FOUND for a missing one",
        turns: [
          `${
            set("c2", "a")
          }cas c2 0 0 1 0\r\nb\r\ncas c2 0 0 1 1\r\nc\r\ncas c2x 0 0 1 0\r\nc\r\nget c2\r\n`,
        ],
      },
      {
        name: "with -C, stats settings says cas_enabled no",
        turns: ["stats settings\r\n"],
      },
      // Last in its group: it leaves every item stored in the same second flushed.
      {
        name: "with -C, flush_all also drops items stored after it in the same second",
        turns: [`${set("c3", "a")}flush_all\r\n${set("c4", "b")}get c3 c4\r\n`],
      },
    ],
  },
  {
    name: "stats by shape",
    args: [],
    flushBefore: false,
    transcripts: [
      {
        name: "stats counts gets, sets, deletes, incr, decr, cas and touch",
        turns: [
          `${set("s1", "a")}${set("s2", "bb")}${set("s3", "5")}get s1 s2 nope\r\ngets s1\r\n` +
          "add s1 0 0 1\r\nx\r\nreplace nope 0 0 1\r\nx\r\ndelete s2\r\ndelete s2\r\n" +
          "incr s3 1\r\nincr nope 1\r\ndecr s3 1\r\ndecr nope 1\r\ntouch s1 0\r\ntouch nope 0\r\n" +
          "gat 0 s1 nope\r\ncas nope 0 0 1 1\r\nx\r\ngets s1 s3\r\n",
          "cas s1 0 0 1 <cas:s1+1>\r\nx\r\ncas s3 0 0 1 <cas:s3>\r\n7\r\nstats\r\n",
        ],
      },
      {
        name: "stats settings lists the settings in memcached's order",
        turns: ["stats settings\r\n"],
      },
      {
        name: "stats items and stats slabs describe the stored items by slab class",
        turns: [
          `${set("big", "x".repeat(500))}${
            set("bigger", "y".repeat(5000))
          }stats items\r\nstats slabs\r\n`,
        ],
      },
      {
        name: "stats reset answers RESET and zeroes the counters",
        turns: ["stats reset\r\nstats\r\n"],
      },
      {
        name:
          "stats detail without a subcommand and an unknown stats group are errors, words after stats items are ignored",
        turns: [
          "stats detail\r\nstats detail bogus\r\nstats bogus\r\nstats items bogus\r\nversion\r\n",
        ],
      },
    ],
  },
  {
    // memcached takes a line whose last token starts with HTTP/ for an HTTP
    // request and hangs up without a reply (proto_text.c, its last branch).
    name: "HTTP request lines, which close the connection",
    args: [],
    flushBefore: false,
    transcripts: [
      {
        name: "GET / HTTP/1.1 closes the connection with no reply",
        turns: ["version\r\n", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"],
      },
      {
        name: "a POST closes the connection at its request line, before its body",
        turns: [
          "POST /x HTTP/1.0\r\nContent-Length: 20\r\n\r\nset pwned 0 0 5\r\nhello\r\n",
        ],
      },
      {
        name: "the key a POST body would have set is not there",
        turns: ["get pwned\r\n"],
      },
      {
        name: "an HTTP line drops the replies pipelined before it in the same write",
        turns: ["version\r\nset h 0 0 1\r\nx\r\nHTTP/1.1\r\nversion\r\n"],
      },
      {
        name: "an HTTP line after 22 pipelined requests: memcached has written the first 21",
        turns: [`${"version\r\n".repeat(22)}GET / HTTP/1.1\r\n`],
      },
      {
        name: "a get then an HTTP line in one write: the get's reply is written, then the close",
        turns: ["set g 0 0 1\r\nG\r\n", "get g\r\nGET / HTTP/1.1\r\nversion\r\n"],
      },
      {
        name: "HTTP/ anywhere but the last token, or not quite HTTP/, is ERROR",
        turns: [
          "GET / HTTP/1.1 x\r\nxx HTTP\r\nxx http/1.1\r\nxx HTTP/1.1 noreply\r\n" +
          `xx ${"a ".repeat(22)}HTTP/1\r\nxx HTTP\0/1.1\r\nversion\r\n`,
        ],
      },
      {
        name: "words memcached dispatches by their first letter are ERROR even before HTTP/",
        turns: [
          "gxx HTTP/1.1\r\nmz HTTP/1.1\r\nsx HTTP/1.1\r\ntouchy HTTP/1.1\r\n" +
          "verbosity HTTP/1.1\r\nversion\r\n",
        ],
      },
      {
        name: "HTTP/ as the 23rd token of a longer line closes: memcached's tokens stop there",
        turns: [`xx ${"a ".repeat(21)}HTTP/1 x y z\r\nversion\r\n`],
      },
      {
        name: "a NUL byte ends the line, so HTTP/ just before it is the last token",
        turns: ["version\r\n", "xx HTTP/1\0 junk\r\nversion\r\n"],
      },
    ],
  },
];

/**
 * The only transcripts that wait: each runs on its own pair of servers, at the
 * same time, so the test waits about 2 s once.
 */
export const TIMED: Transcript[] = [
  {
    name: "an item with a relative exptime of 1 is gone 2 s later, one without stays",
    turns: [
      `${set("a", "A", 0, 1)}${set("b", "B")}get a b\r\n`,
      { pauseMs: 2100 },
      "get a b\r\n",
    ],
  },
  {
    name: "flush_all 2 drops items stored before it falls due, not those stored after",
    turns: [
      `${set("a", "A")}flush_all 2\r\n${set("b", "B")}get a b\r\n`,
      { pauseMs: 2100 },
      `get a b\r\n${set("c", "C")}get c\r\n`,
    ],
  },
];
