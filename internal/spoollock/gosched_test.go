package spoollock

import "runtime"

func runtimeGosched() { runtime.Gosched() }
