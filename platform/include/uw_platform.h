/*
 * uw_platform.h - the uweb unikernel platform ABI.
 *
 * What it is for: everything a uweb unikernel may ask of the machine it
 * runs on, in one self-contained header: start information, exit, clocks,
 * waiting for I/O, the console, network devices (Ethernet frames), block
 * devices and a seed for the guest's random generator.  The same calls are implemented by the bindings of every
 * unikernel target (platform/spt/ on a seccomp-locked Linux process,
 * platform/hvt/ on KVM); code above this header (the guest libc, lwIP
 * glue, the runtime, apps) never knows which target it runs on.
 *
 * Devices are declared at build time in a manifest (UW_PLAT_MANIFEST
 * below), stored in the guest image as an ELF note.  The tender reads it,
 * attaches a host resource to every declared device (or refuses to start;
 * a device declared optional may stay unattached), fills in the device's
 * details and hands the filled copy to the bindings.  A device is then
 * acquired by name; its handle is its index in the manifest.
 *
 * Who owns memory: the caller, always.  No function here allocates or
 * keeps a pointer it was given beyond the call; buffers passed to read and
 * write calls are only used during the call.
 *
 * Calling pattern: single-threaded.  The bindings call
 * uw_plat_app_main() once with the start information; the guest's common
 * start code (platform/guest/) sets up the libc heap, turns the command
 * line into argc/argv and calls main().  I/O is non-blocking: a read that
 * finds nothing returns UW_PLAT_AGAIN, and the program then waits in
 * uw_plat_yield() until a device is ready or a deadline passes.
 *
 * Errors are values (uw_plat_result_t); bad arguments give UW_PLAT_EINVAL
 * and never stop the guest.  Only uw_plat_exit() and uw_plat_abort() end
 * it.
 *
 * Self-contained: needs only the compiler's <stddef.h> and <stdint.h>.
 */
#ifndef UW_PLATFORM_H
#define UW_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bumped whenever a type, a structure layout or the meaning of a call
 * below changes.  The tender refuses a guest whose manifest carries
 * another version.
 */
#define UW_PLAT_ABI_VERSION 4   /* 2: uw_plat_seed; 3: optional devices (flags); 4: uw_plat_net_writev */

/* ------------------------------------------------------------ types */

/* Result of every call that can fail. */
typedef enum {
    UW_PLAT_OK = 0,      /* done */
    UW_PLAT_AGAIN,       /* nothing to do now; retry after uw_plat_yield() */
    UW_PLAT_EINVAL,      /* a bad argument (unknown device, size, offset) */
    UW_PLAT_EUNSPEC      /* the host failed; the device may be unusable */
} uw_plat_result_t;

/* Nanoseconds: since an arbitrary point (monotonic) or the epoch (wall). */
typedef uint64_t uw_plat_time_t;

/* A byte offset on a block device. */
typedef uint64_t uw_plat_off_t;

/* An acquired device: its index in the manifest.  Opaque to callers. */
typedef uint64_t uw_plat_handle_t;

/* A set of handles: bit N set means handle N. */
typedef uint64_t uw_plat_handle_set_t;

/* ------------------------------------------------------------ start, exit */

/*
 * What the guest is started with.  The command line is the tender's
 * arguments after the guest's path, joined by single spaces (an argument
 * with spaces in it is quoted with "..."; see platform/README.md).  The
 * heap is the guest memory nobody else uses: from the end of the image to
 * below the stack, 16-byte aligned.
 */
struct uw_plat_start_info {
    const char *cmdline;   /* NUL-terminated; valid for the guest's life */
    uintptr_t heap_start;  /* first byte of free memory */
    size_t heap_size;      /* its size in bytes */
};

/*
 * The guest's entry, called by the bindings once, after they have set up
 * the stack, the stack-protector canary and the manifest copy.  Provided
 * by the common guest start code (platform/guest/start.c), which calls
 * main(argc, argv).  Its return value becomes the exit status.
 */
int uw_plat_app_main(const struct uw_plat_start_info *si);

/*
 * Ends the guest with STATUS; the tender exits with STATUS & 0xff.
 * Never returns.
 */
void uw_plat_exit(int status) __attribute__((noreturn));

/*
 * Ends the guest abnormally (failed assertion, stack smashing, heap
 * corruption); the tender exits with UW_PLAT_EXIT_ABORT.  Never returns.
 */
void uw_plat_abort(void) __attribute__((noreturn));

/* The tender's exit status for uw_plat_abort(). */
#define UW_PLAT_EXIT_ABORT 255

/* ------------------------------------------------------------ time */

/* Nanoseconds on a clock that never goes back; its start is arbitrary. */
uw_plat_time_t uw_plat_clock_monotonic(void);

/* Nanoseconds since 1970-01-01 UTC, as the host knows it (may jump). */
uw_plat_time_t uw_plat_clock_wall(void);

/*
 * Waits until DEADLINE (on the monotonic clock) or until at least one
 * network device has a frame to read, whichever comes first.  A deadline
 * in the past only polls.  When READY_SET is not NULL it receives the set
 * of network handles that have a frame to read (0 if the deadline
 * passed).  Block devices are always ready and never appear in the set.
 */
void uw_plat_yield(uw_plat_time_t deadline, uw_plat_handle_set_t *ready_set);

/* ------------------------------------------------------------ console */

/*
 * Writes SIZE bytes of BUF to the console (the tender's standard output),
 * all of them or, if the host fails, as many as it could.  Never blocks
 * on anything but the host.
 */
void uw_plat_console_write(const char *buf, size_t size);

/* ------------------------------------------------------------ entropy */

/* Bytes of seed uw_plat_seed() can give in one call. */
#define UW_PLAT_SEED_SIZE 32

/*
 * Fills BUF with SIZE bytes (1 <= SIZE <= UW_PLAT_SEED_SIZE) of seed for
 * the guest's random generator (a DRBG such as uw_random's): the first
 * SIZE of 32 bytes the tender drew from the host's getrandom(2) for this
 * boot, before the guest's first instruction (a tender that cannot get
 * them refuses to start), each 64-bit word XORed with fresh RDSEED output
 * (else RDRAND) where cpuid reports the instruction and it delivers; the
 * CPU's part is skipped, word by word, where it does not.  So the bytes
 * are unpredictable if either source is, and differ from boot to boot.
 *
 * Meant to be called once, at start, to seed a generator: every call in
 * one boot returns the same tender bytes (with new CPU bytes mixed in
 * where there are any), so it is not a stream of random numbers.  Never
 * blocks, makes no I/O, needs no FP or SSE registers (hvt guests built
 * with -mgeneral-regs-only may call it).  UW_PLAT_OK, or UW_PLAT_EINVAL
 * (nothing written) for a NULL BUF, SIZE 0 or SIZE > UW_PLAT_SEED_SIZE.
 */
uw_plat_result_t uw_plat_seed(uint8_t *buf, size_t size);

/* ------------------------------------------------------------ network */

struct uw_plat_net_info {
    uint8_t mac_address[6];  /* the guest's own address on this link */
    size_t mtu;              /* largest payload; frames add 14 header bytes */
    uint32_t offloads;       /* UW_PLAT_NET_OFFLOAD_*: 0 unless the manifest asked */
};

/*
 * Offloads (a net device declared with UW_PLAT_DEVICE_NET_OFFLOADS, e.g.
 * UW_PLAT_NET_OFFLOADED(NAME)): when the tender could set them up,
 * OFFLOAD_VNET_HDR is in info.offloads and every frame read or written
 * starts with a 12-byte struct virtio_net_hdr_v1 (num_buffers 0) before
 * its Ethernet header; OFFLOAD_CSUM: received frames may carry
 * VIRTIO_NET_HDR_F_NEEDS_CSUM (checksum not computed) or _DATA_VALID
 * (checked by the host); OFFLOAD_TSO: received TCP frames may be
 * super-frames up to UW_PLAT_NET_OFFLOAD_FRAME_MAX bytes (header
 * included; give a read buffer that large).  OFFLOAD_GSO (tenders that
 * set it accept them): frames written may be TCP super-frames up to
 * UW_PLAT_NET_OFFLOAD_FRAME_MAX bytes whose header asks the host to
 * segment them (gso_type TCPV4/TCPV6, gso_size, hdr_len) and/or to
 * compute their TCP checksum (NEEDS_CSUM); without it writes stay at
 * most 12 + mtu + 14 bytes.  Without VNET_HDR frames are plain, as
 * before.
 */
#define UW_PLAT_NET_OFFLOAD_VNET_HDR 1u
#define UW_PLAT_NET_OFFLOAD_CSUM     2u
#define UW_PLAT_NET_OFFLOAD_TSO      4u
#define UW_PLAT_NET_OFFLOAD_GSO      8u
#define UW_PLAT_NET_VNET_HDR_SIZE    12
#define UW_PLAT_NET_OFFLOAD_FRAME_MAX (65536 + 128)

/* The smallest read buffer and the largest write of a device with MTU
 * and OFFLOADS (both bindings and the hvt tender check these). */
static inline size_t uw_plat_net_read_min(size_t mtu, uint32_t offloads)
{
    if (offloads & UW_PLAT_NET_OFFLOAD_TSO) return UW_PLAT_NET_OFFLOAD_FRAME_MAX;
    return mtu + 14 + ((offloads & UW_PLAT_NET_OFFLOAD_VNET_HDR) ? UW_PLAT_NET_VNET_HDR_SIZE : 0);
}
static inline size_t uw_plat_net_write_max(size_t mtu, uint32_t offloads)
{
    if (offloads & UW_PLAT_NET_OFFLOAD_GSO) return UW_PLAT_NET_OFFLOAD_FRAME_MAX;
    return mtu + 14 + ((offloads & UW_PLAT_NET_OFFLOAD_VNET_HDR) ? UW_PLAT_NET_VNET_HDR_SIZE : 0);
}

/*
 * Acquires the network device NAME declared in the manifest.  On
 * UW_PLAT_OK, *HANDLE and *INFO are filled.  UW_PLAT_EINVAL if no
 * network device of that name is declared or attached.
 */
uw_plat_result_t uw_plat_net_acquire(const char *name, uw_plat_handle_t *handle,
                                     struct uw_plat_net_info *info);

/*
 * Sends one Ethernet frame of SIZE bytes, its 14-byte header included:
 * 14 <= SIZE <= uw_plat_net_write_max (mtu + 14 without offloads).  UW_PLAT_AGAIN if the host cannot take it now,
 * UW_PLAT_EINVAL for a bad handle or size (nothing is sent).
 */
uw_plat_result_t uw_plat_net_write(uw_plat_handle_t handle, const uint8_t *buf,
                                   size_t size);

/* One piece of a frame for uw_plat_net_writev. */
struct uw_plat_iovec {
    const uint8_t *base;
    size_t len;
};
#define UW_PLAT_NET_IOV_MAX 64

/*
 * Sends one frame gathered from N pieces (1 <= N <= UW_PLAT_NET_IOV_MAX),
 * in order, as uw_plat_net_write sends one buffer: the same limits on
 * their total, the same results.  spt hands the pieces to the host as
 * they are (writev); hvt copies them into one buffer first.
 */
uw_plat_result_t uw_plat_net_writev(uw_plat_handle_t handle, const struct uw_plat_iovec *iov,
                                    size_t n);

/*
 * Receives one Ethernet frame into BUF (SIZE bytes; give at least
 * mtu + 14) and sets *READ_SIZE to its length.  UW_PLAT_AGAIN if no frame
 * is waiting; UW_PLAT_EINVAL for a bad handle or a buffer that is too
 * small.  Never blocks.
 */
uw_plat_result_t uw_plat_net_read(uw_plat_handle_t handle, uint8_t *buf,
                                  size_t size, size_t *read_size);

/* ------------------------------------------------------------ block */

struct uw_plat_block_info {
    uw_plat_off_t capacity;    /* bytes; a multiple of block_size */
    uw_plat_off_t block_size;  /* bytes per block (512 or more, a power of 2) */
};

/*
 * Acquires the block device NAME declared in the manifest.  On
 * UW_PLAT_OK, *HANDLE and *INFO are filled.  UW_PLAT_EINVAL if no block
 * device of that name is declared or attached.
 */
uw_plat_result_t uw_plat_block_acquire(const char *name, uw_plat_handle_t *handle,
                                       struct uw_plat_block_info *info);

/*
 * Writes SIZE bytes from BUF at byte OFFSET.  OFFSET and SIZE must be
 * multiples of the block size, SIZE non-zero, and OFFSET + SIZE at most
 * the capacity; otherwise UW_PLAT_EINVAL and nothing is written.  Several
 * blocks per call are fine.  Synchronous: when it returns the data is the
 * host's (a later read sees it) and durable: the tenders open block
 * files with O_DSYNC (this ABI version has no flush call).
 */
uw_plat_result_t uw_plat_block_write(uw_plat_handle_t handle, uw_plat_off_t offset,
                                     const uint8_t *buf, size_t size);

/* Reads SIZE bytes at byte OFFSET into BUF; same rules as the write. */
uw_plat_result_t uw_plat_block_read(uw_plat_handle_t handle, uw_plat_off_t offset,
                                    uint8_t *buf, size_t size);

/* ------------------------------------------------------------ manifest */

#define UW_PLAT_MANIFEST_MAX 63   /* devices per guest (ready-set bits) */
#define UW_PLAT_NAME_MAX 32       /* bytes of a device name, NUL included */
#define UW_PLAT_MANIFEST_MAGIC 0x74666d75u /* "umft" little-endian */

enum uw_plat_device_type {
    UW_PLAT_DEVICE_NET = 1,
    UW_PLAT_DEVICE_BLOCK = 2
};

/* Flags of a declared device. */
#define UW_PLAT_DEVICE_OPTIONAL 1u  /* the tender may start the guest without it */
#define UW_PLAT_DEVICE_NET_OFFLOADS 2u  /* net: the guest takes virtio-net headers (above) */

/*
 * One declared device.  NAME, TYPE and FLAGS come from the build; the
 * tender fills in the rest of its copy (the image's own copy stays as
 * built).  An optional device the tender was not given stays with
 * attached 0: acquiring it gives UW_PLAT_EINVAL.
 */
struct uw_plat_device {
    char name[UW_PLAT_NAME_MAX];  /* [build] [a-zA-Z0-9_], NUL-terminated */
    uint32_t type;                /* [build] enum uw_plat_device_type */
    uint32_t flags;               /* [build] UW_PLAT_DEVICE_OPTIONAL or 0 */
    uint32_t attached;            /* [tender] 1: backed by a host resource */
    uint32_t reserved;            /* 0 */
    int64_t hostfd;               /* [tender] spt: the host fd; hvt: -1 */
    union {
        struct {
            uint8_t mac_address[6];
            uint16_t reserved;
            uint32_t mtu;
            uint32_t offloads;    /* UW_PLAT_NET_OFFLOAD_* (the union's size is unchanged) */
        } net;
        struct {
            uint64_t capacity;
            uint64_t block_size;
        } block;
    } info;                       /* [tender] by type */
};

/*
 * The manifest: a header followed by COUNT devices.  The image holds it
 * as the descriptor of an ELF note (below); the tender passes its filled
 * copy to the bindings (see platform/README.md).
 */
struct uw_plat_manifest {
    uint32_t magic;      /* UW_PLAT_MANIFEST_MAGIC */
    uint32_t version;    /* UW_PLAT_ABI_VERSION at build time */
    uint32_t count;      /* devices that follow, at most UW_PLAT_MANIFEST_MAX */
    uint32_t reserved;
    struct uw_plat_device devices[];
};

/*
 * The ELF note around it: owner "uweb-mft" (namesz 9, padded to 12, so
 * the descriptor is 8-byte aligned whether a reader aligns notes to 4 or
 * 8), type UW_PLAT_NOTE_MANIFEST, in section ".note.uweb.manifest" of a
 * PT_NOTE segment.
 */
#define UW_PLAT_NOTE_NAME "uweb-mft"
#define UW_PLAT_NOTE_MANIFEST 1
#define UW_PLAT_NOTE_SECTION ".note.uweb.manifest"

struct uw_plat_note_header {
    uint32_t namesz;   /* sizeof UW_PLAT_NOTE_NAME == 9 */
    uint32_t descsz;   /* sizeof the manifest header + count devices */
    uint32_t type;     /* UW_PLAT_NOTE_MANIFEST */
    char name[12];
};

/* Entries of UW_PLAT_MANIFEST(). */
#define UW_PLAT_NET(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_NET, .attached = 0, .hostfd = -1 }
#define UW_PLAT_BLOCK(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_BLOCK, .attached = 0, .hostfd = -1 }
/* Devices the guest can run without (it checks what acquire returns). */
#define UW_PLAT_NET_OPTIONAL(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_NET, .flags = UW_PLAT_DEVICE_OPTIONAL, \
      .attached = 0, .hostfd = -1 }
/* A net device whose guest takes offloads (a tender of ABI 3 before them
 * refuses the flag). */
#define UW_PLAT_NET_OFFLOADED(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_NET, .flags = UW_PLAT_DEVICE_NET_OFFLOADS, \
      .attached = 0, .hostfd = -1 }
#define UW_PLAT_NET_OFFLOADED_OPTIONAL(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_NET, \
      .flags = UW_PLAT_DEVICE_OPTIONAL | UW_PLAT_DEVICE_NET_OFFLOADS, .attached = 0, .hostfd = -1 }
#define UW_PLAT_BLOCK_OPTIONAL(NAME) \
    { .name = NAME, .type = UW_PLAT_DEVICE_BLOCK, .flags = UW_PLAT_DEVICE_OPTIONAL, \
      .attached = 0, .hostfd = -1 }

#define UW_PLAT_MANIFEST_COUNT_(...) \
    (sizeof((const struct uw_plat_device[]){ __VA_ARGS__ }) / sizeof(struct uw_plat_device))

/*
 * Declares the guest's devices, once per guest, at file scope:
 *
 *     UW_PLAT_MANIFEST(UW_PLAT_NET("service0"), UW_PLAT_BLOCK("storage"),
 *                      UW_PLAT_BLOCK_OPTIONAL("tls"));
 *     UW_PLAT_MANIFEST();    // a guest with no devices
 *
 * Every unikernel must declare one (the tender refuses an image without
 * it).  Names are at most UW_PLAT_NAME_MAX - 1 bytes of [a-zA-Z0-9_].
 */
#define UW_PLAT_MANIFEST(...)                                                    \
    __attribute__((section(UW_PLAT_NOTE_SECTION), used, aligned(8)))            \
    const struct {                                                               \
        struct uw_plat_note_header header;                                       \
        uint32_t magic, version, count, reserved; /* = uw_plat_manifest */       \
        struct uw_plat_device devices[UW_PLAT_MANIFEST_COUNT_(__VA_ARGS__)];     \
    } uw_plat_manifest_note = {                                                  \
        { sizeof UW_PLAT_NOTE_NAME,                                              \
          (uint32_t)(sizeof(struct uw_plat_manifest)                             \
                     + sizeof(struct uw_plat_device)                             \
                       * UW_PLAT_MANIFEST_COUNT_(__VA_ARGS__)),                  \
          UW_PLAT_NOTE_MANIFEST, UW_PLAT_NOTE_NAME },                            \
        UW_PLAT_MANIFEST_MAGIC, UW_PLAT_ABI_VERSION,                             \
        (uint32_t)UW_PLAT_MANIFEST_COUNT_(__VA_ARGS__), 0,                       \
        { __VA_ARGS__ } }

#endif
