// math_constants.h stand-in: the CUDART_* constants kernels use.
#pragma once

#include <cmath>

#define CUDART_INF_F INFINITY
#define CUDART_NAN_F NAN
#define CUDART_INF ((double) INFINITY)
#define CUDART_NAN ((double) NAN)
#define CUDART_MAX_NORMAL_F 3.40282347e+38f
#define CUDART_MIN_DENORM_F 1.40129846e-45f
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931e+0
#define CUDART_SQRT_HALF_F 0.707106781f
#define CUDART_SQRT_2PI 2.5066282746310002e+0
#define CUDART_L2E_F 1.442695041f
#define CUDART_LN2_F 0.693147181f
