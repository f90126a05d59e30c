package cli

// The hand-made scenarios of docs/mb2md-3.20.md §9, recreated as the project's own test data
// for the --compat differential test (compat_diff_test.go).

// oldDatesMbox is the input of the 13-olddates cases, run in three time zones.
const oldDatesMbox = `From a@b.example Thu Jan  1 00:00:00 1970
Subject: old 01

01 From a@b.example Thu Jan  1 00:00:00 1970

From a@b.example Wed Dec 31 23:59:59 1969
Subject: old 02

02 From a@b.example Wed Dec 31 23:59:59 1969

From a@b.example Mon Jan  1 00:00:00 1900
Subject: old 03

03 From a@b.example Mon Jan  1 00:00:00 1900

From a@b.example Fri Dec 13 20:45:52 1901
Subject: old 04

04 From a@b.example Fri Dec 13 20:45:52 1901

From a@b.example Sat Jan  3 01:05:34 96
Subject: old 05

05 From a@b.example Sat Jan  3 01:05:34 96

From a@b.example Sat Jan  3 01:05:34 70
Subject: old 06

06 From a@b.example Sat Jan  3 01:05:34 70

From a@b.example Sat Jan  3 01:05:34 76
Subject: old 07

07 From a@b.example Sat Jan  3 01:05:34 76

From a@b.example Sat Jan  3 01:05:34 77
Subject: old 08

08 From a@b.example Sat Jan  3 01:05:34 77

From a@b.example Sat Jan  3 01:05:34 00
Subject: old 09

09 From a@b.example Sat Jan  3 01:05:34 00

From a@b.example Tue Jan 19 03:14:07 2038
Subject: old 10

10 From a@b.example Tue Jan 19 03:14:07 2038

From a@b.example Tue Jan 19 03:14:08 2038
Subject: old 11

11 From a@b.example Tue Jan 19 03:14:08 2038

From a@b.example Sat Jan  3 01:05 1996
Subject: old 12

12 From a@b.example Sat Jan  3 01:05 1996

From a@b.example Jan  3 01:05:34 1996
Subject: old 13

13 From a@b.example Jan  3 01:05:34 1996

From a@b.example Mon Jun 10 12:00:00 1991
Subject: old 14

14 From a@b.example Mon Jun 10 12:00:00 1991

From a@b.example Thu Dec 31 23:59:59 1998
Subject: old 15

15 From a@b.example Thu Dec 31 23:59:59 1998

From a@b.example 1996-01-03 01:05:34
Subject: old 16

16 From a@b.example 1996-01-03 01:05:34

From a@b.example Sat Jan  3 01:05:34 2099
Subject: old 17

17 From a@b.example Sat Jan  3 01:05:34 2099

From a@b.example Sun Apr  7 02:30:00 1996
Subject: old 18

18 From a@b.example Sun Apr  7 02:30:00 1996
`

// contentLengthMbox is the input of the 07 cases, run with and without -c.
const contentLengthMbox = `From cl@example.com Mon Apr  1 10:00:00 2002
From: cl@example.com
Subject: cl one
Content-Length: 122

Body with an unquoted mbox separator inside:

From evil@example.com Sat Jan  3 01:05:34 1996
Subject: not a real message


From cl@example.com Tue Apr  2 10:00:00 2002
From: cl@example.com
Subject: cl two
Content-Length: 122

Body with an unquoted mbox separator inside:

From evil@example.com Sat Jan  3 01:05:34 1996
Subject: not a real message


From cl@example.com Wed Apr  3 10:00:00 2002
From: cl@example.com
Subject: cl three
Content-Length: 5

last
`

var compatCases = []compatCase{
	{
		name: "01-plain", mode: "file", tz: "UTC",
		about: "three plain messages, asctime From_ dates, no status headers",
		files: map[string]string{
			"input.mbox": `From alice@example.com Sat Jan  3 01:05:34 1996
Return-Path: <alice@example.com>
From: Alice <alice@example.com>
To: bob@example.org
Subject: plain one
Date: Sat, 3 Jan 1996 01:05:34 +0000
Message-ID: <1@example.com>

Hello Bob.

From bob@example.org Sun Feb  4 13:14:15 2001
From: Bob <bob@example.org>
To: alice@example.com
Subject: plain two

Line 1
Line 2

From MAILER-DAEMON Mon Mar  5 06:07:08 2012
From: Mail Delivery System <MAILER-DAEMON@example.org>
Subject: plain three

Last message; the file ends right after this line.
`,
		},
	},
	{
		name: "02-status", mode: "file", tz: "UTC",
		about: `Status/X-Status/X-Mozilla-Status/X-Evolution flag mapping, X-UID/X-Keywords kept`,
		files: map[string]string{
			"input.mbox": `From s1@example.com Tue Jan  1 10:00:00 2002
From: s1@example.com
Subject: status case 01
X-UID: 101
X-Keywords: $Label1 NonJunk
Status: RO

case 1 body

From s2@example.com Tue Jan  2 10:00:00 2002
From: s2@example.com
Subject: status case 02
X-UID: 102
X-Keywords: $Label2 NonJunk
Status: R

case 2 body

From s3@example.com Tue Jan  3 10:00:00 2002
From: s3@example.com
Subject: status case 03
X-UID: 103
X-Keywords: $Label3 NonJunk
Status: O

case 3 body

From s4@example.com Tue Jan  4 10:00:00 2002
From: s4@example.com
Subject: status case 04
X-UID: 104
X-Keywords: $Label4 NonJunk
Status: RO
X-Status: A

case 4 body

From s5@example.com Tue Jan  5 10:00:00 2002
From: s5@example.com
Subject: status case 05
X-UID: 105
X-Keywords: $Label5 NonJunk
X-Status: F

case 5 body

From s6@example.com Tue Jan  6 10:00:00 2002
From: s6@example.com
Subject: status case 06
X-UID: 106
X-Keywords: $Label6 NonJunk
X-Status: D

case 6 body

From s7@example.com Tue Jan  7 10:00:00 2002
From: s7@example.com
Subject: status case 07
X-UID: 107
X-Keywords: $Label7 NonJunk
X-Status: T

case 7 body

From s8@example.com Tue Jan  8 10:00:00 2002
From: s8@example.com
Subject: status case 08
X-UID: 108
X-Keywords: $Label8 NonJunk
Status: RO
X-Status: ADFT

case 8 body

From s9@example.com Tue Jan  9 10:00:00 2002
From: s9@example.com
Subject: status case 09
X-UID: 109
X-Keywords: $Label9 NonJunk
status: RO

case 9 body

From s10@example.com Tue Jan 10 10:00:00 2002
From: s10@example.com
Subject: status case 10
X-UID: 110
X-Keywords: $Label10 NonJunk
Status:RO

case 10 body

From s11@example.com Tue Jan 11 10:00:00 2002
From: s11@example.com
Subject: status case 11
X-UID: 111
X-Keywords: $Label11 NonJunk
Status: ro

case 11 body

From s12@example.com Tue Jan 12 10:00:00 2002
From: s12@example.com
Subject: status case 12
X-UID: 112
X-Keywords: $Label12 NonJunk
X-Mozilla-Status: 0001

case 12 body

From s13@example.com Tue Jan 13 10:00:00 2002
From: s13@example.com
Subject: status case 13
X-UID: 113
X-Keywords: $Label13 NonJunk
X-Mozilla-Status: 0003

case 13 body

From s14@example.com Tue Jan 14 10:00:00 2002
From: s14@example.com
Subject: status case 14
X-UID: 114
X-Keywords: $Label14 NonJunk
X-Mozilla-Status: 0008

case 14 body

From s15@example.com Tue Jan 15 10:00:00 2002
From: s15@example.com
Subject: status case 15
X-UID: 115
X-Keywords: $Label15 NonJunk
X-Mozilla-Status: 0004

case 15 body

From s16@example.com Tue Jan 16 10:00:00 2002
From: s16@example.com
Subject: status case 16
X-UID: 116
X-Keywords: $Label16 NonJunk
X-Evolution: 00000001-0010

case 16 body

From s17@example.com Tue Jan 17 10:00:00 2002
From: s17@example.com
Subject: status case 17
X-UID: 117
X-Keywords: $Label17 NonJunk
X-Evolution: 00000002-0019

case 17 body

From s18@example.com Tue Jan 18 10:00:00 2002
From: s18@example.com
Subject: status case 18
X-UID: 118
X-Keywords: $Label18 NonJunk
X-Evolution: 00000003-0004

case 18 body

From s19@example.com Tue Jan 19 10:00:00 2002
From: s19@example.com
Subject: status case 19
X-UID: 119
X-Keywords: $Label19 NonJunk
Status: U
X-Status: 

case 19 body

From s99@example.com Wed Jan 30 10:00:00 2002
From: s99@example.com
Subject: status in body

Status: RO
X-Status: F
`,
		},
	},
	{
		name: "03-fromquote", mode: "file", tz: "UTC",
		about: `mboxo quoting: >From unescape (one level), From lines in body with/without blank before`,
		files: map[string]string{
			"input.mbox": `From quote@example.com Thu Mar  7 08:09:10 2002
From: quote@example.com
Subject: from quoting
>From in-header-quoted line

Para 1
From the start of this line (no blank line before: not a boundary) 10:30
>From quoted once
>>From quoted twice
>>>From quoted thrice
> From with a space after the >
>From: colon form is not touched
 From leading space

From here, after a blank line, but no hh:mm on the line
end of message one

From quote@example.com Fri Mar  8 08:09:10 2002
From: quote@example.com
Subject: unquoted From in body after blank line

We met.

From the meeting at 10:30 we decided nothing.
Status: RO

This paragraph ends up in a separate (bogus) message.
`,
		},
	},
	{
		name: "04-mboxrd", mode: "file", tz: "UTC",
		about: `mboxrd-escaped body (>From, >>From, >>>From): mb2md only strips exactly one level when there is exactly one >`,
		files: map[string]string{
			"input.mbox": `From rd@example.com Sat Mar  9 12:00:00 2002
From: rd@example.com
Subject: mboxrd

>From x (originally 'From x')
>>From y (originally '>From y')
>>>From z (originally '>>From z')
`,
		},
	},
	{
		name: "05-crlf", mode: "file", tz: "UTC",
		about: `CRLF line endings everywhere (plus a lone CR and a CR CR LF line)`,
		files: map[string]string{
			"input.mbox": "From crlf@example.com Sun Mar 10 12:00:00 2002\r\nFrom: crlf@example.com\r\nSubject: crlf one\r\nStatus: RO\r\n\r\nbody line 1\r\nhas a lone\rCR inside\r\nends with CR CR LF\r\r\n>From quoted with CRLF\r\n\r\nFrom crlf@example.com Mon Mar 11 12:00:00 2002\r\nFrom: crlf@example.com\r\nSubject: crlf two\r\nX-Status: F\r\n\r\nsecond body\r\n",
		},
	},
	{
		name: "06-uwimap", mode: "file", tz: "UTC",
		about: `UW-IMAP pseudo message first (X-IMAP), followed by X-UID/X-Keywords messages`,
		files: map[string]string{
			"input.mbox": `From MAILER-DAEMON Wed Nov 24 11:05:35 1999
Date: 24 Nov 1999 11:05:35 +0000
From: Mail System Internal Data <MAILER-DAEMON@host.example>
Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA
Message-ID: <943441535@host.example>
X-IMAP: 0943441530 0000000003 $Junk NonJunk
Status: RO

This text is part of the internal format of your mail folder, and is not
a real message.  It is created automatically by the mail system software.
If deleted, important folder data will be lost, and it will be re-created
with the data reset to initial values.

From a@example.com Thu Nov 25 10:00:00 1999
From: a@example.com
Subject: uw one
Status: RO
X-Status: A
X-Keywords: $Junk
X-UID: 1
Content-Length: 9

uw body1

From b@example.com Fri Nov 26 10:00:00 1999
From: b@example.com
Subject: uw two
Status: O
X-UID: 2
Content-Length: 9

uw body2
`,
		},
	},
	{
		name: "06b-uwimap-notfirst", mode: "file", tz: "UTC",
		about: "UW-IMAP pseudo message as 2nd message (not removed)",
		files: map[string]string{
			"input.mbox": `From z@example.com Tue Nov 23 10:00:00 1999
From: z@example.com
Subject: before the dummy

z

From MAILER-DAEMON Wed Nov 24 11:05:35 1999
Date: 24 Nov 1999 11:05:35 +0000
From: Mail System Internal Data <MAILER-DAEMON@host.example>
Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA
Message-ID: <943441535@host.example>
X-IMAP: 0943441530 0000000003 $Junk NonJunk
Status: RO

This text is part of the internal format of your mail folder, and is not
a real message.  It is created automatically by the mail system software.
If deleted, important folder data will be lost, and it will be re-created
with the data reset to initial values.

From a@example.com Thu Nov 25 10:00:00 1999
From: a@example.com
Subject: uw one
Status: RO
X-Status: A
X-Keywords: $Junk
X-UID: 1
Content-Length: 9

uw body1

From b@example.com Fri Nov 26 10:00:00 1999
From: b@example.com
Subject: uw two
Status: O
X-UID: 2
Content-Length: 9

uw body2
`,
		},
	},
	{
		name: "07a-cl-c", mode: "file", tz: "UTC",
		args:  []string{"-c"},
		about: `-c with Content-Length whose bodies END WITH AN EMPTY LINE (works)`,
		files: map[string]string{
			"input.mbox": contentLengthMbox,
		},
	},
	{
		name: "07b-cl-c-bug", mode: "file", tz: "UTC",
		args:  []string{"-c"},
		about: `-c with correct Content-Length, bodies ending in a non-empty line (merge bug)`,
		files: map[string]string{
			"input.mbox": `From cl@example.com Mon Apr  1 10:00:00 2002
From: cl@example.com
Subject: cl one
Content-Length: 4

one

From cl@example.com Tue Apr  2 10:00:00 2002
From: cl@example.com
Subject: cl two
Content-Length: 4

two

From cl@example.com Wed Apr  3 10:00:00 2002
From: cl@example.com
Subject: cl three
Content-Length: 6

three

From cl@example.com Thu Apr  4 10:00:00 2002
From: cl@example.com
Subject: cl four
Content-Length: 5

four
`,
		},
	},
	{
		name: "07c-cl-noc", mode: "file", tz: "UTC",
		about: `same input as 07a but WITHOUT -c (Content-Length ignored, body From_ splits)`,
		files: map[string]string{
			"input.mbox": contentLengthMbox,
		},
	},
	{
		name: "07d-cl-crlf", mode: "file", tz: "UTC",
		args:  []string{"-c"},
		about: `-c on a CRLF mbox whose Content-Length counts CRLF bytes (CL is compared after CRLF->LF)`,
		files: map[string]string{
			"input.mbox": "From cl@example.com Mon Apr  1 10:00:00 2002\r\nSubject: crlf cl 1\r\nContent-Length: 18\r\n\r\nline a\r\nline b\r\n\r\n\r\nFrom cl@example.com Tue Apr  2 10:00:00 2002\r\nSubject: crlf cl 2\r\nContent-Length: 18\r\n\r\nline a\r\nline b\r\n\r\n\r\n",
		},
	},
	{
		name: "08-empty", mode: "file", tz: "UTC",
		about: "zero-byte mbox file",
		files: map[string]string{
			"input.mbox": "",
		},
	},
	{
		name: "09-nofrom", mode: "file", tz: "UTC",
		about: `file whose first line is not a From_ line (treated as not-an-mbox)`,
		files: map[string]string{
			"input.mbox": `Return-Path: <x@example.com>
Subject: no From_ line

body
From x@example.com Mon Apr  1 10:00:00 2002
Subject: later

b
`,
		},
	},
	{
		name: "09b-leadingblank", mode: "file", tz: "UTC",
		about: "mbox preceded by one empty line (treated as not-an-mbox)",
		files: map[string]string{
			"input.mbox": `
From x@example.com Mon Apr  1 10:00:00 2002
Subject: after blank

b
`,
		},
	},
	{
		name: "10-japanese", mode: "tree", tz: "UTC",
		args:  []string{"-r", "mbx"},
		about: `Japanese: ISO-2022-JP subject/body, UTF-8 folder names, -r mbx`,
		files: map[string]string{
			"input/Trash.mbx": `From me@example.jp Tue Jan  6 12:00:00 1998
Subject: trash
Status: RO
X-Status: D

t
`,
			"input/ゴミ箱/古い.mbx": `From me@example.jp Wed Jan  7 12:00:00 1998
Subject: nested jp

n
`,
			"input/日本語": "From taro@example.jp Sat Jan  3 01:05:34 1998\nFrom: =?ISO-2022-JP?B?GyRCQkBPOhsoQg==?= <taro@example.jp>\nSubject: =?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?=\nX-Raw-Subject: \x1b$BF|K\\8l$N7oL>\x1b(B\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\nStatus: RO\n\n\x1b$B$3$s$K$A$O!\"@$3&!#\x1b(B\n\nFrom hanako@example.jp Sun Jan  4 09:00:00 1998 +0900\nFrom: hanako@example.jp\nSubject: =?UTF-8?B?5pel5pys6Kqe?=\nContent-Type: text/plain; charset=UTF-8\n\nUTF-8 本文です。\n",
			"input/送信済み.mbx": `From me@example.jp Mon Jan  5 12:00:00 1998
Subject: sent
Status: RO

s
`,
		},
	},
	{
		name: "11-tree", mode: "tree", tz: "UTC",
		about: `nested tree with -R: dots, spaces, INBOX/Sent/Drafts, hidden files, non-mbox files, empty file/dir`,
		files: map[string]string{
			"input/.hidden": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: hidden mbox

hidden mbox body
`,
			"input/Drafts": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: draft
X-Status: T

draft body
`,
			"input/INBOX": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: a file called INBOX

a file called INBOX body
`,
			"input/Sent": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: sent
Status: RO

sent body
`,
			"input/a.b": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: dot in name

dot in name body
`,
			"input/empty": "",
			"input/lists/.hidden2": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: hidden in subdir

hidden in subdir body
`,
			"input/lists/debian": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: lists/debian

lists/debian body

From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: lists/debian 2

lists/debian 2 body
`,
			"input/lists/notes.txt": "not an mbox inside a subdir\n",
			"input/lists/sub.dir/deep": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: deep

deep body
`,
			"input/notes.txt": "just some notes, not an mbox\n",
			"input/with space": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: space in name

space in name body
`,
		},
		dirs: []string{"input/emptydir"},
	},
	{
		name: "12-bogusdate", mode: "file", tz: "UTC",
		about: `From_ lines with odd/unparseable dates (mtime becomes 0 on failure)`,
		files: map[string]string{
			"input.mbox": `From a@b.example Mon Foo 99 12:34:56 2001
Subject: bogus 01

01 From a@b.example Mon Foo 99 12:34:56 2001

From a@b.example Sat Jan  3 01:05:34 1996 remote from bar
Subject: bogus 02

02 From a@b.example Sat Jan  3 01:05:34 1996 remote from bar

From a@b.example Sat, 3 Jan 1996 01:05:34 +0900
Subject: bogus 03

03 From a@b.example Sat, 3 Jan 1996 01:05:34 +0900

From a@b.example 3 Jan 96 01:05 IST
Subject: bogus 04

04 From a@b.example 3 Jan 96 01:05 IST

From foo bar 12:34
Subject: bogus 05

05 From foo bar 12:34

From "quoted name"@example.com Sat Jan  3 01:05:34 1996
Subject: bogus 06

06 From "quoted name"@example.com Sat Jan  3 01:05:34 1996

From a@b.example Sat Jan  3 01:05:34 JST 1996
Subject: bogus 07

07 From a@b.example Sat Jan  3 01:05:34 JST 1996

From (no mail address) Sat Jan  3 01:05:34 1996
Subject: bogus 08

08 From (no mail address) Sat Jan  3 01:05:34 1996

From a@b.example  Sat Jan  3 01:05:34 1996
Subject: bogus 09

09 From a@b.example  Sat Jan  3 01:05:34 1996

From  a@b.example Sat Jan  3 01:05:34 1996
Subject: bogus 10

10 From  a@b.example Sat Jan  3 01:05:34 1996

From a@b.example Sat Jan  3 25:05:34 1996
Subject: bogus 11

11 From a@b.example Sat Jan  3 25:05:34 1996

From a@b.example Fri Feb 30 01:05:34 1996
Subject: bogus 12

12 From a@b.example Fri Feb 30 01:05:34 1996

From a@b.example Sat Jan  3 01:05:34 1996 +0900 (JST)
Subject: bogus 13

13 From a@b.example Sat Jan  3 01:05:34 1996 +0900 (JST)

From a@b.example Sat Jan  3 01:05:34 1996 -0500
Subject: bogus 14

14 From a@b.example Sat Jan  3 01:05:34 1996 -0500

From user Sat Jan  3 01:05:34 1996
Subject: bogus 15

15 From user Sat Jan  3 01:05:34 1996

From user Sat Jan  3 01:05:34 1996 @home
Subject: bogus 16

16 From user Sat Jan  3 01:05:34 1996 @home

From a@b.example Sat Jan  3 01:05:34 PST 1996
Subject: bogus 17

17 From a@b.example Sat Jan  3 01:05:34 PST 1996

From a@b.example Sat Jan  3 01:05:34 1996 GMT
Subject: bogus 18

18 From a@b.example Sat Jan  3 01:05:34 1996 GMT

From a@b.example Sat Jan  3 1:05:34 1996
Subject: bogus 19

19 From a@b.example Sat Jan  3 1:05:34 1996

From - Sat Jan  3 01:05:34 1996
Subject: bogus 20

20 From - Sat Jan  3 01:05:34 1996
`,
		},
	},
	{
		name: "13-olddates", mode: "file", tz: "UTC",
		about: `old dates, pre-1970, 2-digit years, 2038, missing seconds/weekday (TZ=UTC)`,
		files: map[string]string{
			"input.mbox": oldDatesMbox,
		},
	},
	{
		name: "13b-olddates-tokyo", mode: "file", tz: "Asia/Tokyo",
		about: "same input as 13 run with TZ=Asia/Tokyo",
		files: map[string]string{
			"input.mbox": oldDatesMbox,
		},
	},
	{
		name: "13c-olddates-newyork", mode: "file", tz: "America/New_York",
		about: "same input as 13 run with TZ=America/New_York",
		files: map[string]string{
			"input.mbox": oldDatesMbox,
		},
	},
	{
		name: "14-headers-edge", mode: "file", tz: "UTC",
		about: `From_ line inside headers, whitespace-only 'blank' line, EOF inside headers`,
		files: map[string]string{
			"input.mbox": `From e1@example.com Mon Apr  1 10:00:00 2002
From: e1@example.com
Subject: edge one

one

From e2@example.com Tue Apr  2 10:00:00 2002
From e2-again@example.com Tue Apr  2 10:00:00 2002
From: e2@example.com
Subject: edge two (second From_ line directly after the first)

two

From e3@example.com Wed Apr  3 10:00:00 2002
From: e3@example.com
Subject: edge three (header/body separated by a line with one space)
 
body line that is really body
Status: RO
From inside what mb2md thinks are headers 10:00

after real blank

From e4@example.com Thu Apr  4 10:00:00 2002
From: e4@example.com
Subject: edge four, file ends inside the headers
`,
		},
	},
	{
		name: "14b-noheaders", mode: "file", tz: "UTC",
		about: `From_ line directly followed by the blank line (no headers at all)`,
		files: map[string]string{
			"input.mbox": `From x@example.com Mon Apr  1 10:00:00 2002

body only

From x@example.com Tue Apr  2 10:00:00 2002
Subject: normal

b
`,
		},
	},
	{
		name: "15-noeol", mode: "file", tz: "UTC",
		about: `last line without trailing newline; CRLF-only line in LF file`,
		files: map[string]string{
			"input.mbox": "From n@example.com Mon Apr  1 10:00:00 2002\nSubject: noeol one\n\none\r\n\r\nafter a CRLF-only line\n\nFrom n@example.com Tue Apr  2 10:00:00 2002\nSubject: noeol two\n\nno newline at end",
		},
	},
	{
		name: "16-collision", mode: "flat", tz: "UTC",
		args:  []string{"-r", "mbx"},
		about: `two sources mapping to the same folder (a.b vs a_b; Trash vs Trash.mbx with -r)`,
		files: map[string]string{
			"input/Trash": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: from Trash

from Trash body
`,
			"input/Trash.mbx": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: from Trash.mbx

from Trash.mbx body
`,
			"input/a.b": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: from a.b

from a.b body
`,
			"input/a_b": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: from a_b

from a_b body
`,
		},
	},
	{
		name: "17-list", mode: "tree", tz: "UTC",
		args:  []string{"-l", ".mailboxlist"},
		about: "-l subscription list filter (list file lives in $HOME, cwd)",
		files: map[string]string{
			"home/.mailboxlist": "Sent\nlists/debian\n",
			"input/Old": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: old, unsubscribed

old, unsubscribed body
`,
			"input/Sent": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: sent

sent body
`,
			"input/lists/debian": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: debian, subscribed

debian, subscribed body
`,
			"input/lists/other": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: other, unsubscribed

other, unsubscribed body
`,
		},
	},
	{
		name: "18-dash-f", mode: "flat", tz: "UTC",
		args:  []string{"-f", "music.bands"},
		about: `-f with a dotted directory name (docs say dots make hierarchy)`,
		files: map[string]string{
			"input/music.bands/Jim": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: jim

jim body
`,
			"input/music.bands/John": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: john

john body
`,
			"input/music.bands/live/1970": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: nested under -f dir

nested under -f dir body
`,
			"input/toplevel": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: not under -f, ignored

not under -f, ignored body
`,
		},
	},
	{
		name: "19-spool", mode: "spool", tz: "UTC",
		about: `-m with MAIL pointing at a spool file; goes to the root (INBOX)`,
		files: map[string]string{
			"input.mbox": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: spool one
Status: O

spool one body

From t@example.com Tue Apr  2 10:00:00 2002
From: t@example.com
Subject: spool two
Status: RO

spool two body
`,
		},
	},
	{
		name: "20-flat", mode: "flat", tz: "UTC",
		about: `directory without -R: subdirectories skipped, files become folders`,
		files: map[string]string{
			"input/Sent": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: sent

sent body
`,
			"input/notmbox": "hello\n",
			"input/sub/inner": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: inner, skipped without -R

inner, skipped without -R body
`,
		},
	},
	{
		name: "21-cr-only", mode: "file", tz: "UTC",
		about: "old-Mac CR-only line endings (whole file is one 'line')",
		files: map[string]string{
			"input.mbox": "From cr@example.com Mon Apr  1 10:00:00 2002\rSubject: cr\r\rbody\r\rFrom cr@example.com Tue Apr  2 10:00:00 2002\rSubject: cr2\r\rbody2\r",
		},
	},
	{
		name: "22-strip-ext-dirs", mode: "tree", tz: "UTC",
		args:  []string{"-r", "mbx"},
		about: `-r applied to a directory name and to a file literally ending in _ext`,
		files: map[string]string{
			"input/Sent.mbx": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: Sent.mbx

Sent.mbx body
`,
			"input/old.mbx/child.mbx": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: child of old.mbx dir

child of old.mbx dir body
`,
			"input/top_mbx": `From t@example.com Mon Apr  1 10:00:00 2002
From: t@example.com
Subject: file literally named top_mbx

file literally named top_mbx body
`,
		},
	},
}
