// cuda.h stand-in: the shim (emu.h) is force-included already; nothing else is needed by kernel code.
#pragma once
#include "emu.h"
