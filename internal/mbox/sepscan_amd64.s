//go:build !purego

#include "textflag.h"

// func indexNLF(b []byte) int
//
// The smallest i with b[i] == '\n' and b[i+1] == 'F', or -1. SSE2 (every amd64 CPU has it):
// each block compares 16 bytes at i with '\n' and the 16 bytes at i+1 with 'F', and ANDs the
// two masks; two blocks per round while 33 bytes are left, one while 17 are, then bytes.
TEXT ·indexNLF(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ $-1, AX
	XORQ DI, DI
	MOVQ $0x0a0a0a0a0a0a0a0a, DX
	MOVQ DX, X1
	PUNPCKLQDQ X1, X1 // X1: 16 x '\n'
	MOVQ $0x4646464646464646, DX
	MOVQ DX, X2
	PUNPCKLQDQ X2, X2 // X2: 16 x 'F'
	LEAQ -33(BX), R8  // two blocks while DI <= len-33 (signed: len < 33 skips)

loop32:
	CMPQ DI, R8
	JGT  loop16pre
	MOVOU (SI)(DI*1), X3
	MOVOU 1(SI)(DI*1), X4
	MOVOU 16(SI)(DI*1), X5
	MOVOU 17(SI)(DI*1), X6
	PCMPEQB X1, X3
	PCMPEQB X2, X4
	PCMPEQB X1, X5
	PCMPEQB X2, X6
	PAND    X4, X3
	PAND    X6, X5
	MOVOU   X5, X7
	POR     X3, X7
	PMOVMSKB X7, DX
	TESTL   DX, DX
	JNZ     found32
	ADDQ    $32, DI
	JMP     loop32

found32:
	PMOVMSKB X3, DX
	TESTL    DX, DX
	JNZ      found
	ADDQ     $16, DI
	PMOVMSKB X5, DX
	JMP      found

loop16pre:
	LEAQ -17(BX), R8 // one block while DI <= len-17

loop16:
	CMPQ DI, R8
	JGT  tail
	MOVOU (SI)(DI*1), X3
	MOVOU 1(SI)(DI*1), X4
	PCMPEQB X1, X3
	PCMPEQB X2, X4
	PAND    X4, X3
	PMOVMSKB X3, DX
	TESTL   DX, DX
	JNZ     found
	ADDQ    $16, DI
	JMP     loop16

found:
	BSFL DX, DX
	ADDQ DX, DI
	MOVQ DI, AX
	JMP  done

tail:
	LEAQ -1(BX), R8 // pairs start before len-1

tailloop:
	CMPQ DI, R8
	JGE  done
	CMPB (SI)(DI*1), $0x0a
	JNE  next
	CMPB 1(SI)(DI*1), $0x46
	JNE  next
	MOVQ DI, AX
	JMP  done

next:
	INCQ DI
	JMP  tailloop

done:
	MOVQ AX, ret+24(FP)
	RET
