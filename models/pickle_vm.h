/* pickle_vm.h - a pickle interpreter that builds data and never runs code.
 *
 * PyTorch's .pth files are Python pickles.  Python's own unpickler calls
 * whatever callable the file names (os.system included); this one knows
 * only the opcodes that state dicts use (protocols 2-5) and only the
 * globals torch.load(weights_only=True) would allow for them:
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
 * _rebuild_parameter, the typed storages (torch.FloatStorage ...) and
 * torch.storage.UntypedStorage.  Everything else, an unknown opcode, a
 * global outside the list or a REDUCE/BUILD on anything but those
 * callables with the arguments torch writes, fails with a message naming
 * it and its byte offset.  "Calling" an allowed global only builds a
 * value: a dict, a storage reference or a tensor description (storage,
 * offset, sizes, strides).  No bytes of a storage are read here; the
 * format readers (models/pth_read.c) resolve storage keys.
 *
 * Values live in the VM's arena and are freed together by pk_vm_free;
 * the object graph may contain cycles (a hostile pickle can append a list
 * to itself), so consumers walk it with a depth bound.
 */
#ifndef SG_PICKLE_VM_H
#define SG_PICKLE_VM_H

#include <stddef.h>
#include <stdint.h>

#define PK_MAX_DIMS 8

typedef enum pk_kind {
    PK_NONE,
    PK_BOOL,
    PK_INT,     /* fits int64: i */
    PK_BIGINT,  /* LONG1 wider than 8 bytes: s/len hold its little-endian bytes */
    PK_FLOAT,
    PK_STR,     /* s, len (UTF-8, NUL-terminated copy) */
    PK_BYTES,
    PK_TUPLE,   /* items, n */
    PK_LIST,
    PK_DICT,    /* items: key0, value0, key1, value1 ...; n = 2 x pairs */
    PK_GLOBAL,  /* one of the allowed globals: global */
    PK_STORAGE, /* a persistent storage reference */
    PK_TENSOR,  /* _rebuild_tensor_v2's description */
    PK_MARK,    /* only on the stack */
} pk_kind;

/* Element types of torch's storages. */
typedef enum pk_dtype {
    PK_F32,
    PK_F16,
    PK_BF16,
    PK_F64,
    PK_I64,
    PK_I32,
    PK_U8,
    PK_BOOL_T,
} pk_dtype;

typedef enum pk_global {
    PK_G_ORDERED_DICT,
    PK_G_REBUILD_TENSOR_V2,
    PK_G_REBUILD_PARAMETER,
    PK_G_STORAGE, /* a storage class; its dtype in the value's dtype */
} pk_global;

typedef struct pk_value pk_value;
struct pk_value {
    pk_kind kind;
    int64_t i;          /* INT, BOOL; STORAGE: numel; containers: nesting depth */
    double f;
    char *s;            /* STR, BYTES, BIGINT; STORAGE: key */
    size_t len;
    pk_value **items;   /* TUPLE, LIST: n items; DICT: 2n */
    size_t n, cap;
    pk_global global;
    pk_dtype dtype;     /* GLOBAL (storage class), STORAGE */
    /* STORAGE of a legacy view: view_key != NULL, elements at view_offset
     * of the storage named s */
    char *view_key;
    int64_t view_offset;
    /* TENSOR */
    pk_value *storage;
    int64_t offset;
    int ndim;
    int64_t size[PK_MAX_DIMS], stride[PK_MAX_DIMS];
    size_t op_offset;   /* byte offset of the opcode that built it */
    pk_value *next_alloc;
};

typedef struct pk_vm pk_vm;

/* A new VM (caller frees with pk_vm_free); NULL when out of memory. */
pk_vm *pk_vm_new(void);

/* Frees the VM and every value it built; accepts NULL. */
void pk_vm_free(pk_vm *vm);

/* Runs the pickle at buf[0..len) up to its STOP and stores the result in
 * *out (owned by vm) and the bytes read in *used.  what names the file
 * in messages, base is buf's offset in that file (offsets in messages
 * are file offsets).  Fails with SG_E_CORRUPT and "WHAT: ... at byte N". */
int pk_vm_load(pk_vm *vm, const unsigned char *buf, size_t len, const char *what, size_t base,
               pk_value **out, size_t *used);

/* Every storage reference the loads so far built (owned by vm). */
size_t pk_vm_storages(const pk_vm *vm, pk_value *const **out);

/* The value for string key in dict d, or NULL. */
pk_value *pk_dict_get(const pk_value *d, const char *key);

/* Element size in bytes, and torch's name ("float32"), of a dtype. */
size_t pk_dtype_size(pk_dtype d);
const char *pk_dtype_name(pk_dtype d);

#endif
