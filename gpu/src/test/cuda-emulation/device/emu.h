// emu.h: CUDA C++ as host C++ (g++ -std=c++20): the execution-space qualifiers, the built-in indices, __syncthreads,
// the vector types and min / max; warp intrinsics (emu_warp.h), atomics (emu_atomic.h) and math intrinsics
// (emu_math.h). rewrite.py includes it first in every rewritten kernel source (and turns
// __shared__ declarations into static storage or pointers into the block's dynamic shared memory).
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <math.h>
#include <stdint.h>
#include <type_traits>

#include "emu_runtime.h"

#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __CUDACC__ 1
#define __CUDA_ARCH__ 900
// Kernel sources that use inline PTX (ptx.cuh) take the emulator's stand-ins (inc/inflow_ptx.h) when this is set.
#define INFLOW_EMULATED_DEVICE 1

// rewrite.py turns `__shared__ T name[N];` into `static T name[N]; EMU_STATIC_SHARED(name);`
#define EMU_STATIC_SHARED(name) \
    static const bool emu_static_shared_##name [[maybe_unused]] = ::emu::register_static_shared(&(name), sizeof(name))

#ifdef EMU_SCAN   // rewrite.py preprocesses with these to find the extern "C" kernels and their launch bounds
#undef __global__
#undef __launch_bounds__
#define __global__ EMU_GLOBAL_MARK
#define __launch_bounds__(...) EMU_LAUNCH_BOUNDS_MARK(__VA_ARGS__)
#endif

constexpr int warpSize = 32;

// __syncthreads: the block's barrier (threads that returned have dropped out of it). The call site names the
// barrier in a deadlock report.
inline void __syncthreads(std::source_location site = std::source_location::current()) { emu::sync_block(site); }

[[noreturn]] inline void __trap() { emu::fault("__trap() called"); }

inline long long clock64() {
    return (long long) std::chrono::steady_clock::now().time_since_epoch().count();
}
// A spin-wait's back-off: the block's other runnable threads run first (threads switch only at barriers, warp
// collectives and here, so a spin-wait without __nanosleep never lets the thread it waits for run).
inline void __nanosleep(unsigned) { emu::yield(); }

// ---- vector types (only what kernels commonly use) -----------------------------------------------------------
struct __align__(8) float2 { float x, y; };
struct __align__(16) float4 { float x, y, z, w; };
struct __align__(8) int2 { int x, y; };
struct __align__(16) int4 { int x, y, z, w; };
struct __align__(8) uint2 { unsigned x, y; };
struct __align__(16) uint4 { unsigned x, y, z, w; };
struct __align__(16) double2 { double x, y; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline dim3 make_dim3(unsigned x, unsigned y, unsigned z) { return dim3(x, y, z); }

// ---- min / max as CUDA overloads them: the usual arithmetic conversions, fmin / fmax for floating types --------
template <class A, class B>
    requires std::is_arithmetic_v<A> && std::is_arithmetic_v<B>
inline std::common_type_t<A, B> min(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return std::fmin((C) a, (C) b);
    else return (C) a < (C) b ? (C) a : (C) b;
}
template <class A, class B>
    requires std::is_arithmetic_v<A> && std::is_arithmetic_v<B>
inline std::common_type_t<A, B> max(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return std::fmax((C) a, (C) b);
    else return (C) a < (C) b ? (C) b : (C) a;
}
inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned umax(unsigned a, unsigned b) { return a < b ? b : a; }
inline long long llmin(long long a, long long b) { return a < b ? a : b; }
inline long long llmax(long long a, long long b) { return a < b ? b : a; }
inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a < b ? b : a; }

// ---- cache-hinted loads and stores: plain accesses ----------------------------------------------------------
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *(const volatile T*) p; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *(volatile T*) p = v; }

#include "emu_atomic.h"
#include "emu_math.h"
#include "emu_warp.h"
