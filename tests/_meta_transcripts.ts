/**
 * Byte transcripts of the meta protocol (`mg ms md ma mn me`) for the
 * differential test: each is sent as is to Debian's memcached 1.6.18 and to
 * our server, and both must answer alike. Turns follow `_transcripts.ts`:
 * `<cas:k>` becomes the cas unique the server last returned for key `k`
 * (from `gets`, or a meta reply carrying both `c` and `k`).
 *
 * memcached 1.6.18 has no `E` (explicit cas) flag on any meta command and no
 * `x` flag on `md`; the transcripts show it refuses them, and ours with it.
 *
 * @module
 */

import type { TranscriptGroup } from "./_transcripts.ts";

const K251 = "k".repeat(251);
/** Twenty flag tokens: one more line token than memcached's meta limit allows. */
const MANY_FLAGS = "O1 k v c f s t h l u q P1 L1 N1 R1 T1 b".split(" ").join(" ") + " O2 O3";
/** A value past the default 1 MiB item size limit. */
const BIG = "x".repeat(1024 * 1024 + 10);

export const META_GROUPS: TranscriptGroup[] = [
  {
    name: "meta commands with default flags",
    args: [],
    flushBefore: true,
    transcripts: [
      // mg
      {
        name: "mg returns the flags asked for, in their order, with HD or VA and the value",
        turns: [
          "set k 5 0 5\r\nhello\r\nmg k v f s t c k O123 h l\r\nmg k h l u\r\nmg k\r\nmg k s v\r\n" +
          "mg k P/path Lhint k\r\nmg k kxyz vv Oab\r\n",
        ],
      },
      {
        name: "mg h and l report the state before this fetch; u leaves it untouched",
        turns: [
          "set k 0 0 1\r\nx\r\nmg k h u\r\nmg k h\r\nmg k h\r\nset k 0 0 1\r\ny\r\nmg k h l\r\n",
        ],
      },
      {
        name: "mg on a miss answers EN, echoing only k and O",
        turns: ["mg missing\r\nmg missing v k O9 c t s f h l\r\nmg missing b\r\n"],
      },
      {
        name: "mg q drops EN but not HD or VA, and mn ends the pipeline",
        turns: [
          "set a 0 0 1\r\n1\r\nset c 0 0 1\r\n3\r\nmg a q v k\r\nmg b q v k\r\nmg c q v k\r\n" +
          "mg d q k O4\r\nmg a q\r\nmn\r\n",
        ],
      },
      {
        name:
          "mg b decodes a base64 key, skipping bytes outside the alphabet, and k echoes it encoded",
        turns: [
          "ms YWJj 3 b\r\nxyz\r\nmg YWJj b k v\r\nmg abc k v\r\nmg YWJj k v\r\nmg Y!W!J!j b k\r\n" +
          "set ab 0 0 1\r\nx\r\nmg YWI= b k\r\nmg YWI b\r\nmg YQ== b k v\r\nmg ==== b\r\n" +
          "mg A=== b\r\nmg YWJj q b\r\nmn\r\n",
        ],
      },
      {
        name: "mg T touches the item and counts as a touch; t shows the new ttl",
        turns: [
          "set k 0 100 1\r\nx\r\nmg k T30 t\r\nmg k t\r\nmg k t T0\r\nmg k t\r\nmg missing T30 t\r\n" +
          "gat 50 k\r\nmg k t v\r\nmg k T-1 v\r\nmg k v\r\n",
        ],
      },
      {
        name: "mg N creates an empty item and wins (W); later fetches see Z until it is set",
        turns: [
          "mg v N30 c t v s f k\r\nmg v N30 t v\r\nmg v v t\r\nget v\r\nms v 3 T60\r\nnew\r\n" +
          "mg v v t N30\r\nmg w N0 t q\r\nmg w t\r\n",
        ],
      },
      {
        name: "mg R wins a recache once when the ttl is below the token, then answers Z",
        turns: [
          "ms r 1 T10\r\nx\r\nmg r R30 t\r\nmg r R30 t\r\nmg r R5 t\r\nms p 1\r\nx\r\nmg p R30\r\n" +
          "ms r 1 T10\r\ny\r\nmg r R5\r\nmg r R30 v\r\n",
        ],
      },
      // md
      {
        name: "md I marks an item stale with a new cas: X W once, then Z X; a set clears it",
        turns: [
          "ms r 1\r\nx\r\nmg r c k\r\nmd r I T30\r\nmg r t c v k\r\nmg r t\r\nmd r I\r\nmg r\r\n" +
          "ms r 1\r\nz\r\nmg r v\r\nmd r I q\r\nmg r v\r\nmd r q\r\nmg r\r\n",
        ],
      },
      {
        name: "md answers HD, NF, or EX for a cas that does not match; q drops only HD",
        turns: [
          "ms d 1 c k\r\nx\r\n",
          "md d C<cas:d+1> k O1\r\nmd d C0\r\nmd d C<cas:d> k O2\r\nmd d k O3\r\nmd d q\r\n" +
          "set d 0 0 1\r\nx\r\nmd d q\r\nmd d q k\r\nmg d\r\nmd YWJj b k\r\nmd Y b\r\nmn\r\n",
        ],
      },
      {
        name: "md refuses unknown and repeated flags as one error, and checks the opaque length",
        turns: [
          "set d 0 0 1\r\nx\r\nmd d x\r\nmd d E5\r\nmd d q q\r\nmd d Cx\r\n" +
          `md d O${"o".repeat(31)}\r\nmd d O${"o".repeat(32)}\r\nmg d v\r\n`,
        ],
      },
      // ms
      {
        name: "ms stores with F and T, q drops HD, and c and k report the stored item",
        turns: [
          "ms s 2 F7 T100 c k O5\r\nhi\r\nmg s v f t\r\nget s\r\nms s 2 q\r\nho\r\nms s 2 q k c\r\nhu\r\n" +
          "gets s\r\nms e 0\r\n\r\nmg e v s\r\nmn\r\n",
        ],
      },
      {
        name: "ms modes: E adds, A appends, P prepends, R replaces, S sets",
        turns: [
          "ms m 1 ME c\r\na\r\nms m 1 ME c\r\nb\r\nms m 1 MA\r\n>\r\nms m 1 MP\r\n<\r\n" +
          "ms n 1 MA\r\nx\r\nms n 1 MP q\r\nx\r\nms n 1 MR\r\nx\r\nms m 1 MR F3\r\nr\r\n" +
          "ms m 2 MS T0\r\nss\r\nmg m v f\r\nms m 1 Ms\r\nx\r\nms m 1 MX\r\nx\r\nms m 1 MEE\r\nx\r\n" +
          "ms m 1 M\r\nx\r\nmg m v\r\n",
        ],
      },
      {
        name: "ms C stores only over the current cas: EX, NF, and append with C",
        turns: [
          "ms s 1 c k\r\na\r\n",
          "ms s 1 C<cas:s+1> c k\r\nb\r\nms s 1 C<cas:s> c k\r\nc\r\nms s 1 C<cas:s> c\r\nd\r\n" +
          "ms missing 1 C1 c\r\nx\r\nms missing 1 C1 MR\r\nx\r\nms s 1 C1 MA\r\nx\r\nms s 1 C0 MA\r\n!\r\n" +
          "ms s 1 C1 ME\r\nx\r\nmg s v c k\r\n",
          "ms s 1 C<cas:s> MP k c\r\n<\r\nmg s v\r\n",
        ],
      },
      {
        name: "ms I with an older cas stores the value stale, keeping the ttl; a newer cas is EX",
        turns: [
          "ms s 1 T100 c k\r\na\r\n",
          "ms s 1 C1 I c T5\r\nb\r\nmg s v t\r\nmg s v\r\nms s 1 C<cas:s+1> I c\r\nd\r\n" +
          "ms s 1 C0 I\r\ne\r\nmg s v\r\nms s 1 c I\r\nf\r\nmg s v\r\nms t 1 C1 I\r\nx\r\n",
        ],
      },
      {
        name:
          "ms b stores a binary key that classic commands see decoded and meta replies echo encoded",
        turns: [
          "ms AAEC 1 b k c\r\nx\r\nms AAEC 1 b k q\r\ny\r\nme AAEC b\r\nmg AAEC b v k\r\n" +
          "ms YWJj 1 b\r\nz\r\nget abc\r\nmg abc k\r\nset abc 0 0 1\r\nw\r\nmg abc k\r\n" +
          "ms bad 1 b\r\nx\r\nmg bad v\r\n",
        ],
      },
      {
        name: "ms flag errors swallow the data block; line errors before the flags do not",
        turns: [
          "ms k 1 Z\r\nx\r\nms k 1 q q\r\nx\r\nms k 1 Cx\r\nx\r\nms k 1 Tx\r\nx\r\nms k 1 Fx\r\nx\r\n" +
          `ms k 1 O${"o".repeat(32)}\r\nx\r\nms k 1 E1\r\nx\r\nms k 1 I\xff\r\nx\r\nmg k\r\n`,
          `ms k\r\nms k abc\r\nms k -1\r\nms ${K251} 1\r\nx\r\nms k 1 ${MANY_FLAGS}\r\nx\r\nmn\r\n`,
        ],
      },
      {
        name:
          "ms answers a bad data chunk and a too-large value even with q, and drops the old value",
        turns: [
          "ms k 1 q\r\nx\r\nms k 1 q\r\nxyz\r\nmg k v\r\nset k 0 0 1\r\nx\r\n",
          [`ms k ${BIG.length} q T0\r\n`, `${BIG}\r\n`],
          "mg k v\r\nmn\r\n",
        ],
      },
      // ma
      {
        name: "ma increments by one or D, decrements with MD or M-, and stops at 0",
        turns: [
          "set n 0 0 2\r\n10\r\nma n\r\nma n v\r\nma n D5 v\r\nma n MD v\r\nma n M- D3 v\r\nma n M+ v\r\n" +
          "ma n MI v\r\nma n MD D100 v\r\nget n\r\nma n Mx\r\nma n MDD\r\n",
        ],
      },
      {
        name: "ma wraps at 2^64, pads in place, and answers errors for non-numbers and bad tokens",
        turns: [
          "set n 0 0 20\r\n18446744073709551615\r\nma n v\r\nget n\r\nset e 0 0 0\r\n\r\nma e\r\n" +
          "set t 0 0 1\r\nx\r\nma t\r\nma n Dx\r\nma n D-1\r\nma n Jx\r\nma n q q\r\nma n E1\r\n" +
          `ma n O${"o".repeat(32)} v\r\nget n\r\n`,
        ],
      },
      {
        name: "ma N creates a missing item from J; q drops HD but not a creation; NF without N",
        turns: [
          "ma a\r\nma a q\r\nma a k O1\r\nma a N0 J42 v t c k\r\nma a N0 J42 v\r\nma b N100 t v\r\n" +
          "ma c N0 q\r\nma c q\r\nma c q v\r\nmg c v\r\nmn\r\n",
        ],
      },
      {
        name: "ma C must match the cas; c and t report the item; T sets the ttl after t reads it",
        turns: [
          "ms n 1 c k T100\r\n5\r\n",
          "ma n C<cas:n+1> v\r\nma n C<cas:n> v c k\r\nma n C0 v\r\nma n t T50 t\r\nma n t\r\n" +
          "ma missing C1\r\nma YWJj b k N0\r\nme YWJj b\r\nme abc\r\n",
        ],
      },
      // me and mn
      {
        name: "me prints exp, la, cas, fetch, cls and size; EN on a miss",
        turns: [
          "set k 3 100 5\r\nhello\r\nme k\r\nget k\r\nme k\r\nset big 0 0 500\r\n" +
          `${"b".repeat(500)}\r\nme big\r\nme missing\r\nme k b\r\nme k extra tokens\r\nme\r\n` +
          `me ${K251}\r\nme YQ b\r\nme ==== b\r\nmn ignored tokens\r\n`,
        ],
      },
      // Errors shared by the meta commands.
      {
        name: "meta flag errors: invalid, duplicate, bad tokens, opaque and option limits",
        turns: [
          "set k 0 0 1\r\nx\r\nmg k E5\r\nmg k v v\r\nmg k \xff\r\nmg k Nx\r\nmg k Tx\r\nmg k R\r\n" +
          "mg k Nx Ty\r\nmg k Nx z\r\nmg k Mxy\r\nmg k Jx\r\nmg k Dx\r\nmg k Fx\r\nmg k Cx\r\n" +
          `mg k O${"o".repeat(31)}\r\nmg k O${"o".repeat(32)}\r\nmg missing O${
            "o".repeat(32)
          }\r\n` +
          `mg missing q O${
            "o".repeat(32)
          }\r\nmg k ${MANY_FLAGS}\r\nmg k O1 k v c f s t h l u P1 L1\r\n` +
          `mg\r\nmg ${K251} v\r\nmd\r\nma\r\nmx k\r\nmgg k\r\nmg k T30 O${
            "o".repeat(32)
          } t\r\nmg k t\r\n`,
        ],
      },
      // Meta and classic commands on one connection.
      {
        name: "classic and meta commands see the same items, cas uniques and ttls",
        turns: [
          "set k 1 100 3\r\nabc\r\ngets k\r\nmg k c f t v k\r\nms m 2 F9 T200 c k\r\nxy\r\ngets m\r\n",
          "cas m 0 0 1 <cas:m>\r\nz\r\nmg m v f t c k\r\nincr m 1\r\nset n 0 0 1\r\n7\r\nma n v\r\n" +
          "incr n 1\r\nma n MD v\r\ntouch k 10\r\nmg k t\r\nmg k T20\r\ngat 0 k\r\nmg k t\r\n" +
          "delete m\r\nmg m\r\nmd k\r\nget k\r\nappend n 0 0 1\r\n0\r\nma n v\r\nprepend n 0 0 1\r\n1\r\n" +
          "mg n v\r\nmn\r\n",
        ],
      },
      {
        name: "a pipeline of quiet meta commands interleaved with classic ones",
        turns: [
          "ms a 1 q\r\n1\r\nset b 0 0 1 noreply\r\n2\r\nms c 1 q\r\n3\r\nmg a q v k\r\nget b\r\n" +
          "mg x q v k\r\nmg c q v k O3\r\nmd a q\r\nmd a q\r\ndelete b noreply\r\nma c q\r\nma c q v\r\n" +
          "ma zz q\r\nmg a q v k\r\nmg c v\r\nmn\r\nversion\r\n",
        ],
      },
    ],
  },
  {
    name: "stats counters after meta commands",
    args: [],
    flushBefore: false,
    transcripts: [
      {
        name: "mg counts gets or touches, md deletes, ma incr/decr, and cmd_meta counts me only",
        turns: [
          "mg x v\r\nmg x T10\r\nms x 1\r\n1\r\nmg x v\r\nmg x T10\r\nmg x N5\r\nmg y N5\r\n" +
          "md x q\r\nmd x\r\nmd y C1\r\nma z\r\nma z MD\r\nma z N0\r\nma z\r\nma z MD\r\nme z\r\n" +
          "me none\r\nme\r\nmn\r\nms big 2000000\r\n",
          ["x".repeat(2000000), "\r\n"],
          "ms q 1\r\nxyz\r\nstats\r\n",
        ],
      },
    ],
  },
];
