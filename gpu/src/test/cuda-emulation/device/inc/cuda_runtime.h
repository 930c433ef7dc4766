// cuda_runtime.h stand-in: the shim (emu.h) comes first in every generated unit already; nothing else is needed.
#pragma once
#include "emu.h"
