/*
 * A stand-in for NVIDIA's libnvidia-ml.so.1, built by the tests with gcc
 * and loaded by thermal through the real dynamic-loading path. The GPUs and
 * their values are fixed per PCI bus ID (see testdata/sysfs/nvidia-gpus.tree):
 *
 *   0000:01:00.0  NVIDIA A100-SXM4-80GB: 54 °C, memory 61 °C, throttling
 *                 for software thermal reasons, 12.5 s of thermal violation
 *   0000:02:00.0  NVIDIA GeForce RTX 4090: 48 °C, no memory temperature
 *   0000:03:00.0  a GPU that fell off the bus: every query fails
 *   0000:04:00.0  runtime-suspended in sysfs: must never be asked
 *
 * Environment: FAKE_NVML_INIT_DELAY_MS makes nvmlInit slow;
 * FAKE_NVML_LOG names a file that gets one line per call;
 * FAKE_NVML_CRASH=segv or abort kills the process, and FAKE_NVML_HANG=1
 * hangs it, when GPU 2's temperature is asked (after 300 ms, so that
 * GPU 1, read at the same time, is done first).
 * Compile-time: -DNO_EVENT_REASONS leaves out the driver-535 name of the
 * clock-event reasons (the older name stays); -DNO_REASONS leaves out both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

typedef unsigned int nvmlReturn_t;
typedef void *nvmlDevice_t;

typedef struct {
	unsigned int fieldId;
	unsigned int scopeId;
	long long timestamp;
	long long latencyUsec;
	int valueType;
	nvmlReturn_t nvmlReturn;
	union { double d; unsigned int ui; unsigned long ul; unsigned long long ull; long long sll; int si; unsigned short us; } value;
} nvmlFieldValue_t;

typedef struct { unsigned long long referenceTime, violationTime; } nvmlViolationTime_t;

enum { OK = 0, NOT_SUPPORTED = 3, INVALID_ARGUMENT = 2, NOT_FOUND = 6, UNINITIALIZED = 1, GPU_IS_LOST = 15 };

static int initialised;

static void logcall(const char *what, const char *arg) {
	const char *path = getenv("FAKE_NVML_LOG");
	if (!path) return;
	FILE *f = fopen(path, "a");
	if (!f) return;
	fprintf(f, "%s %s\n", what, arg ? arg : "");
	fclose(f);
}

static int gpu(nvmlDevice_t d) { return (int)(long)d; } /* 1, 2, 3 */

nvmlReturn_t nvmlInit_v2(void) {
	const char *ms = getenv("FAKE_NVML_INIT_DELAY_MS");
	if (ms) {
		struct timespec ts = { atoi(ms) / 1000, (atoi(ms) % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	initialised++;
	logcall("nvmlInit_v2", NULL);
	return OK;
}

nvmlReturn_t nvmlShutdown(void) {
	logcall("nvmlShutdown", NULL);
	if (!initialised) return UNINITIALIZED;
	initialised--;
	return OK;
}

const char *nvmlErrorString(nvmlReturn_t r) { return r == OK ? "Success" : "Error"; }

nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *busId, nvmlDevice_t *device) {
	logcall("nvmlDeviceGetHandleByPciBusId_v2", busId);
	if (!initialised) return UNINITIALIZED;
	/* NVML takes a four- or eight-digit domain. */
	const char *p = strchr(busId, ':');
	if (!p) return INVALID_ARGUMENT;
	if (!strcmp(p, ":01:00.0")) { *device = (nvmlDevice_t)1; return OK; }
	if (!strcmp(p, ":02:00.0")) { *device = (nvmlDevice_t)2; return OK; }
	if (!strcmp(p, ":03:00.0")) { *device = (nvmlDevice_t)3; return OK; }
	if (!strcmp(p, ":04:00.0")) { *device = (nvmlDevice_t)4; return OK; } /* asking wakes it */
	return NOT_FOUND;
}

static nvmlReturn_t str(const char *s, char *buf, unsigned int len) {
	if (strlen(s) + 1 > len) return INVALID_ARGUMENT;
	strcpy(buf, s);
	return OK;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len) {
	switch (gpu(d)) {
	case 1: return str("NVIDIA A100-SXM4-80GB", name, len);
	case 2: return str("NVIDIA GeForce RTX 4090", name, len);
	case 3: return GPU_IS_LOST;
	}
	return str("NVIDIA GeForce RTX 3050 Laptop GPU", name, len);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len) {
	switch (gpu(d)) {
	case 1: return str("GPU-5b3c1f2e-8a7d-4c21-9e0f-1a2b3c4d5e6f", uuid, len);
	case 2: return str("GPU-0f1e2d3c-4b5a-6978-8a9b-cadbecfd0e1f", uuid, len);
	}
	return GPU_IS_LOST;
}

static void misbehave(void) {
	const char *crash = getenv("FAKE_NVML_CRASH"), *hang = getenv("FAKE_NVML_HANG");
	if (!crash && !hang) return;
	struct timespec ts = { 0, 300000000L };
	nanosleep(&ts, NULL);
	if (crash && !strcmp(crash, "abort")) abort();
	if (crash) raise(SIGSEGV);
	for (;;) pause();
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *temp) {
	if (sensor != 0) return INVALID_ARGUMENT;
	if (gpu(d) == 2) misbehave();
	switch (gpu(d)) {
	case 1: *temp = 54; return OK;
	case 2: *temp = 48; return OK;
	}
	return GPU_IS_LOST;
}

nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, int kind, unsigned int *temp) {
	/* shutdown, slowdown, memory max, GPU max */
	static const unsigned int a100[] = { 95, 90, 95, 87 }, rtx[] = { 92, 89, 0, 83 };
	if (kind < 0 || kind > 3) return INVALID_ARGUMENT;
	switch (gpu(d)) {
	case 1: *temp = a100[kind]; return OK;
	case 2: if (!rtx[kind]) return NOT_SUPPORTED; *temp = rtx[kind]; return OK;
	}
	return GPU_IS_LOST;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int count, nvmlFieldValue_t *values) {
	for (int i = 0; i < count; i++) {
		values[i].nvmlReturn = NOT_SUPPORTED;
		if (values[i].fieldId == 82 && gpu(d) == 1) { /* NVML_FI_DEV_MEMORY_TEMP */
			values[i].nvmlReturn = OK;
			values[i].valueType = 1; /* unsigned int */
			values[i].value.ui = 61;
		}
		if (gpu(d) == 3) values[i].nvmlReturn = GPU_IS_LOST;
	}
	return gpu(d) == 3 ? GPU_IS_LOST : OK;
}

#ifndef NO_REASONS
static nvmlReturn_t reasons(nvmlDevice_t d, unsigned long long *r) {
	switch (gpu(d)) {
	case 1: *r = 0x20 | 0x01; return OK; /* SW thermal slowdown + GPU idle */
	case 2: *r = 0; return OK;
	}
	return GPU_IS_LOST;
}
#ifndef NO_EVENT_REASONS
nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *r) { return reasons(d, r); }
#endif
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *r) { return reasons(d, r); }
#endif

nvmlReturn_t nvmlDeviceGetViolationStatus(nvmlDevice_t d, int policy, nvmlViolationTime_t *v) {
	if (policy != 1) return NOT_SUPPORTED; /* NVML_PERF_POLICY_THERMAL */
	switch (gpu(d)) {
	case 1: v->referenceTime = 1; v->violationTime = 12500000000ULL; return OK;
	case 2: v->referenceTime = 1; v->violationTime = 0; return OK;
	}
	return GPU_IS_LOST;
}

/*
 * Fans and power. The A100 is passively cooled (no fans: NOT_SUPPORTED);
 * the RTX 4090 has two fans, the second commanded to 45 % but at 0 RPM
 * (failed). -DNO_FAN_V2 leaves out nvmlDeviceGetFanSpeed_v2 (an older
 * driver: fan 0 through nvmlDeviceGetFanSpeed only); -DNO_FAN_RPM leaves
 * out nvmlDeviceGetFanSpeedRPM (drivers before 555).
 */
nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t d, unsigned int *n) {
	char g[2] = { (char)('0' + gpu(d)), 0 };
	logcall("nvmlDeviceGetNumFans", g);
	switch (gpu(d)) {
	case 1: return NOT_SUPPORTED;
	case 2: *n = 2; return OK;
	}
	return GPU_IS_LOST;
}

static nvmlReturn_t fan_speed(nvmlDevice_t d, unsigned int fan, unsigned int *speed) {
	static const unsigned int pct[] = { 40, 45 };
	if (gpu(d) != 2) return gpu(d) == 1 ? NOT_SUPPORTED : GPU_IS_LOST;
	if (fan > 1) return INVALID_ARGUMENT;
	*speed = pct[fan];
	return OK;
}

#ifndef NO_FAN_V2
nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t d, unsigned int fan, unsigned int *speed) { return fan_speed(d, fan, speed); }
#endif
nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t d, unsigned int *speed) { return fan_speed(d, 0, speed); }

#ifndef NO_FAN_RPM
typedef struct { unsigned int version, fan, speed; } nvmlFanSpeedInfo_t;
nvmlReturn_t nvmlDeviceGetFanSpeedRPM(nvmlDevice_t d, nvmlFanSpeedInfo_t *info) {
	static const unsigned int rpm[] = { 1450, 0 };
	if (info->version != (sizeof(nvmlFanSpeedInfo_t) | 1u << 24)) return INVALID_ARGUMENT;
	if (gpu(d) != 2) return gpu(d) == 1 ? NOT_SUPPORTED : GPU_IS_LOST;
	if (info->fan > 1) return INVALID_ARGUMENT;
	info->speed = rpm[info->fan];
	return OK;
}
#endif

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
	switch (gpu(d)) {
	case 1: *mw = 215250; return OK;
	case 2: *mw = 320500; return OK;
	}
	return GPU_IS_LOST;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) {
	switch (gpu(d)) {
	case 1: *mw = 400000; return OK;
	case 2: *mw = 450000; return OK;
	}
	return GPU_IS_LOST;
}
