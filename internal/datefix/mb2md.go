package datefix

import "strings"

// MB2MDDateString extracts the date part from a From_ line the way mb2md
// 3.20 does (spec §5.3 steps 1-4). line is the whole line starting with
// "From " (the line end may or may not be present):
//
//  1. s/^From //
//  2. if the line has an "@": s/[^@]+// then s/@//
//  3. s/(\((\S*| )+\)|\S+) *//
//  4. chomp
func MB2MDDateString(line string) string {
	s := strings.TrimPrefix(line, "From ")
	if strings.IndexByte(s, '@') >= 0 {
		// delete the first run of non-@ characters (which may start after a
		// leading "@"), then the first "@".
		i := 0
		for i < len(s) && s[i] == '@' {
			i++
		}
		if i < len(s) {
			j := i
			for j < len(s) && s[j] != '@' {
				j++
			}
			s = s[:i] + s[j:]
		}
		if k := strings.IndexByte(s, '@'); k >= 0 {
			s = s[:k] + s[k+1:]
		}
	}
	if i, j, ok := firstWord(s); ok {
		s = s[:i] + s[j:]
	}
	return strings.TrimSuffix(s, "\n")
}

// firstWord finds the leftmost match of (\((\S*| )+\)|\S+) *.
func firstWord(s string) (int, int, bool) {
	for i := 0; i < len(s); i++ {
		end := -1
		if s[i] == '(' {
			// (\S*| )+ covers any run of non-whitespace characters and
			// spaces; the greedy match ends at the last ")" of that run.
			j := i + 1
			for j < len(s) && (s[j] == ' ' || !isSpace(s[j])) {
				j++
			}
			for k := j - 1; k > i; k-- {
				if s[k] == ')' {
					end = k + 1
					break
				}
			}
		}
		if end < 0 {
			if isSpace(s[i]) {
				continue
			}
			end = i + 1
			for end < len(s) && !isSpace(s[end]) {
				end++
			}
		}
		for end < len(s) && s[end] == ' ' {
			end++
		}
		return i, end, true
	}
	return 0, 0, false
}
