// Package datefix turns the dates found in mbox messages into times.
//
// It holds three exact re-implementations and one lenient reader:
//
//   - Str2Time: Perl's Date::Parse 2.33 str2time (with Time::Zone 2.24 and
//     Time::Local 1.30), as Debian's mb2md 3.20 uses it. The Perl regular
//     expressions are re-implemented as hand-written scanners that follow the
//     regex engine's backtracking order, so the same text is matched, captured
//     and removed.
//   - MB2MDDateString: how mb2md 3.20 cuts the date out of a From_ line.
//   - DovecotFromDate: Dovecot 2.3's mbox_from_parse (the From_ line check of
//     its mbox reader and the source of INTERNALDATE).
//   - ParseLenient: a tolerant reader for Received: and Date: headers.
//
// Every function is pure: the clock and the location are parameters.
package datefix
