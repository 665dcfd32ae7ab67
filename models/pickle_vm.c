/* pickle_vm.c - the allowlisted unpickler (see pickle_vm.h).
 *
 * One pass over the opcodes with a value stack, a mark stack and a memo,
 * as pickle's own _Unpickler does, except that GLOBAL resolves against a
 * fixed table and REDUCE/BUILD/BINPERSID only build data.  Limits bound
 * memory and time on hostile input: the stack depth, the nesting depth of
 * containers, the memo (indices must be dense, as every Pickler writes
 * them) and string sizes (inside the buffer).  It deliberately does not
 * know protocol 0/1 text opcodes, NEWOBJ, sets, frozensets, extensions or
 * persistent ids other than torch's storage tuples.
 */
#include "models/pickle_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/sg_error.h"

#define PK_MAX_STACK 4096   /* values on the stack at once */
#define PK_MAX_MARKS 512    /* open MARKs */
#define PK_MAX_DEPTH 64     /* containers inside containers */
#define PK_MAX_MEMO (1u << 22)

struct pk_vm {
    pk_value *allocs;        /* every value, for pk_vm_free */
    pk_value **storages;     /* STORAGE values in creation order */
    size_t n_storages, cap_storages;
    /* per load */
    pk_value **stack;
    size_t sp;
    size_t *marks;
    size_t n_marks;
    pk_value **memo;
    size_t n_memo, cap_memo;
    const char *what;
    size_t base;
};

static const struct {
    const char *module, *name;
    pk_global global;
    pk_dtype dtype;
} allowed[] = {
    {"collections", "OrderedDict", PK_G_ORDERED_DICT, PK_F32},
    {"torch._utils", "_rebuild_tensor_v2", PK_G_REBUILD_TENSOR_V2, PK_F32},
    {"torch._utils", "_rebuild_parameter", PK_G_REBUILD_PARAMETER, PK_F32},
    {"torch", "FloatStorage", PK_G_STORAGE, PK_F32},
    {"torch", "HalfStorage", PK_G_STORAGE, PK_F16},
    {"torch", "BFloat16Storage", PK_G_STORAGE, PK_BF16},
    {"torch", "DoubleStorage", PK_G_STORAGE, PK_F64},
    {"torch", "LongStorage", PK_G_STORAGE, PK_I64},
    {"torch", "IntStorage", PK_G_STORAGE, PK_I32},
    {"torch", "ByteStorage", PK_G_STORAGE, PK_U8},
    {"torch", "BoolStorage", PK_G_STORAGE, PK_BOOL_T},
    /* a storage of bytes: torch saves an UntypedStorage as uint8 */
    {"torch.storage", "UntypedStorage", PK_G_STORAGE, PK_U8},
    {"torch", "UntypedStorage", PK_G_STORAGE, PK_U8},
};

size_t pk_dtype_size(pk_dtype d)
{
    switch (d) {
    case PK_F32: case PK_I32: return 4;
    case PK_F16: case PK_BF16: return 2;
    case PK_F64: case PK_I64: return 8;
    case PK_U8: case PK_BOOL_T: return 1;
    }
    return 0;
}

const char *pk_dtype_name(pk_dtype d)
{
    static const char *const names[] = {"float32", "float16", "bfloat16", "float64",
                                        "int64", "int32", "uint8", "bool"};
    return (unsigned)d < sizeof names / sizeof names[0] ? names[d] : "?";
}

pk_vm *pk_vm_new(void)
{
    return calloc(1, sizeof(pk_vm));
}

void pk_vm_free(pk_vm *vm)
{
    if (!vm)
        return;
    for (pk_value *v = vm->allocs, *next; v; v = next) {
        next = v->next_alloc;
        free(v->s);
        free(v->view_key);
        free(v->items);
        free(v);
    }
    free(vm->storages);
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
    free(vm);
}

size_t pk_vm_storages(const pk_vm *vm, pk_value *const **out)
{
    *out = vm->storages;
    return vm->n_storages;
}

pk_value *pk_dict_get(const pk_value *d, const char *key)
{
    if (!d || d->kind != PK_DICT)
        return NULL;
    /* the last write wins, as in Python */
    for (size_t j = d->n / 2; j-- > 0;) {
        const pk_value *k = d->items[2 * j];
        if (k->kind == PK_STR && strcmp(k->s, key) == 0)
            return d->items[2 * j + 1];
    }
    return NULL;
}

/* ---- errors -------------------------------------------------------------- */

static int fail_at(const pk_vm *vm, size_t pos, const char *detail)
{
    return sg_fail(SG_E_CORRUPT, "%s: pickle: %s at byte %zu", vm->what, detail, vm->base + pos);
}

#define FAIL(pos, ...)                                                                             \
    do {                                                                                           \
        char msg_[320];                                                                            \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                  \
        return fail_at(vm, (pos), msg_);                                                       \
    } while (0)

/* ---- values ------------------------------------------------------------------ */

static pk_value *new_value(pk_vm *vm, pk_kind kind, size_t pos)
{
    pk_value *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->kind = kind;
    v->op_offset = pos;
    v->next_alloc = vm->allocs;
    vm->allocs = v;
    return v;
}

static int is_container(const pk_value *v)
{
    return v->kind == PK_TUPLE || v->kind == PK_LIST || v->kind == PK_DICT;
}

/* Appends item (its depth bounded) to a container's items. */
static int add_item(pk_vm *vm, pk_value *c, pk_value *item, size_t pos)
{
    /* a container's i counts its nesting depth (containers never use i
     * otherwise) */
    int64_t d = is_container(item) ? item->i + 1 : 1;
    if (d > PK_MAX_DEPTH)
        FAIL(pos, "containers nested deeper than %d", PK_MAX_DEPTH);
    if (d > c->i)
        c->i = d;
    if (c->n + 1 > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        pk_value **items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return sg_fail(SG_E_NOMEM, "out of memory");
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return 0;
}

static int push(pk_vm *vm, pk_value *v, size_t pos)
{
    if (!v)
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (vm->sp >= PK_MAX_STACK)
        FAIL(pos, "stack deeper than %d values (stack depth limit)", PK_MAX_STACK);
    vm->stack[vm->sp++] = v;
    return 0;
}

static pk_value *pop(pk_vm *vm)
{
    return vm->sp > (vm->n_marks ? vm->marks[vm->n_marks - 1] : 0) ? vm->stack[--vm->sp] : NULL;
}

static pk_value *top(pk_vm *vm)
{
    return vm->sp > (vm->n_marks ? vm->marks[vm->n_marks - 1] : 0) ? vm->stack[vm->sp - 1] : NULL;
}

/* Pops everything above the last MARK and the mark; *first is the index
 * of the first popped value, *count how many. */
static int pop_mark(pk_vm *vm, size_t pos, size_t *first, size_t *count)
{
    if (!vm->n_marks)
        FAIL(pos, "no MARK for this opcode");
    size_t m = vm->marks[--vm->n_marks];
    *first = m;
    *count = vm->sp - m;
    vm->sp = m;
    return 0;
}

static int make_seq(pk_vm *vm, pk_kind kind, pk_value **items, size_t n, size_t pos)
{
    pk_value *t = new_value(vm, kind, pos);
    if (!t)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t j = 0; j < n; j++) {
        int rc = add_item(vm, t, items[j], pos);
        if (rc != 0)
            return rc;
    }
    return push(vm, t, pos);
}

static int memo_put(pk_vm *vm, size_t idx, size_t pos)
{
    pk_value *v = top(vm);
    if (!v)
        FAIL(pos, "memo store with an empty stack");
    if (idx > vm->n_memo || idx >= PK_MAX_MEMO)
        FAIL(pos, "memo index %zu out of range (next is %zu)", idx, vm->n_memo);
    if (idx == vm->n_memo) {
        if (vm->n_memo == vm->cap_memo) {
            size_t cap = vm->cap_memo ? 2 * vm->cap_memo : 64;
            pk_value **m = realloc(vm->memo, cap * sizeof *m);
            if (!m)
                return sg_fail(SG_E_NOMEM, "out of memory");
            vm->memo = m;
            vm->cap_memo = cap;
        }
        vm->n_memo++;
    }
    vm->memo[idx] = v;
    return 0;
}

static int memo_get(pk_vm *vm, size_t idx, size_t pos)
{
    if (idx >= vm->n_memo)
        FAIL(pos, "memo reference %zu out of range (memo holds %zu)", idx, vm->n_memo);
    return push(vm, vm->memo[idx], pos);
}

/* ---- reading the buffer ---------------------------------------------------- */

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

static int need(pk_vm *vm, const reader *r, size_t n, size_t op)
{
    if (n > r->len - r->pos)
        FAIL(op, "truncated pickle (needs %zu more bytes)", n - (r->len - r->pos));
    return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int push_string(pk_vm *vm, reader *r, pk_kind kind, uint64_t n, size_t op)
{
    int rc = need(vm, r, n, op);
    if (rc != 0)
        return rc;
    pk_value *v = new_value(vm, kind, op);
    if (!v || !(v->s = malloc((size_t)n + 1)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(v->s, r->p + r->pos, (size_t)n);
    v->s[n] = 0;
    v->len = (size_t)n;
    r->pos += (size_t)n;
    return push(vm, v, op);
}

/* GLOBAL's "module\nname\n" operand. */
static int read_line(pk_vm *vm, reader *r, char *out, size_t size, size_t op)
{
    size_t k = 0;
    while (r->pos < r->len && r->p[r->pos] != '\n') {
        if (k + 1 >= size)
            FAIL(op, "GLOBAL name longer than %zu bytes", size - 1);
        unsigned char c = r->p[r->pos++];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (r->pos >= r->len)
        FAIL(op, "truncated GLOBAL");
    r->pos++;
    out[k] = 0;
    return 0;
}

static int push_global(pk_vm *vm, const char *module, const char *name, size_t op)
{
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++) {
        if (strcmp(allowed[k].module, module) == 0 && strcmp(allowed[k].name, name) == 0) {
            pk_value *v = new_value(vm, PK_GLOBAL, op);
            if (!v)
                return sg_fail(SG_E_NOMEM, "out of memory");
            v->global = allowed[k].global;
            v->dtype = allowed[k].dtype;
            return push(vm, v, op);
        }
    }
    FAIL(op, "global '%s.%s' is not allowed (refused; only state-dict globals are)", module, name);
}

/* ---- REDUCE, BUILD, BINPERSID: building data, never calling --------------- */

static int int_tuple(const pk_value *t, int64_t *out, int *n)
{
    if (t->kind != PK_TUPLE || t->n > PK_MAX_DIMS)
        return -1;
    for (size_t j = 0; j < t->n; j++) {
        if (t->items[j]->kind != PK_INT)
            return -1;
        out[j] = t->items[j]->i;
    }
    *n = (int)t->n;
    return 0;
}

static int empty_dict(const pk_value *v)
{
    return v->kind == PK_DICT && v->n == 0;
}

static int rebuild_tensor(pk_vm *vm, const pk_value *args, size_t op)
{
    /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
    if (args->n != 6 && args->n != 7)
        FAIL(op, "_rebuild_tensor_v2 with %zu arguments (expected 6 or 7)", args->n);
    pk_value *const *a = args->items;
    pk_value *t = new_value(vm, PK_TENSOR, op);
    if (!t)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int nsize = 0, nstride = 0;
    if (a[0]->kind != PK_STORAGE)
        FAIL(op, "_rebuild_tensor_v2: first argument is not a storage");
    if (a[1]->kind != PK_INT)
        FAIL(op, "_rebuild_tensor_v2: storage offset is not an integer");
    if (int_tuple(a[2], t->size, &nsize) != 0 || int_tuple(a[3], t->stride, &nstride) != 0)
        FAIL(op, "_rebuild_tensor_v2: size and stride must be tuples of at most %d integers", PK_MAX_DIMS);
    if (nsize != nstride)
        FAIL(op, "_rebuild_tensor_v2: %d sizes but %d strides", nsize, nstride);
    if (a[4]->kind != PK_BOOL)
        FAIL(op, "_rebuild_tensor_v2: requires_grad is not a boolean");
    if (!empty_dict(a[5]))
        FAIL(op, "_rebuild_tensor_v2: backward hooks must be an empty dict");
    if (a[1]->i < 0)
        FAIL(op, "tensor storage offset %lld is negative", (long long)a[1]->i);
    for (int d = 0; d < nsize; d++) {
        if (t->size[d] < 0 || t->stride[d] < 0)
            FAIL(op, "tensor size %lld / stride %lld in dimension %d is negative", (long long)t->size[d],
                 (long long)t->stride[d], d);
    }
    t->storage = a[0];
    t->offset = a[1]->i;
    t->ndim = nsize;
    t->dtype = a[0]->dtype;
    return push(vm, t, op);
}

static int op_reduce(pk_vm *vm, size_t op)
{
    pk_value *args = pop(vm), *fn = pop(vm);
    if (!args || !fn)
        FAIL(op, "REDUCE needs a callable and its arguments");
    if (fn->kind != PK_GLOBAL)
        FAIL(op, "REDUCE on a non-global value (refused)");
    if (args->kind != PK_TUPLE)
        FAIL(op, "REDUCE arguments are not a tuple");
    switch (fn->global) {
    case PK_G_ORDERED_DICT:
        if (args->n != 0)
            FAIL(op, "REDUCE collections.OrderedDict with %zu argument(s) (only OrderedDict() is allowed)",
                 args->n);
        return push(vm, new_value(vm, PK_DICT, op), op);
    case PK_G_REBUILD_TENSOR_V2:
        return rebuild_tensor(vm, args, op);
    case PK_G_REBUILD_PARAMETER:
        /* (data, requires_grad, backward_hooks): the tensor itself */
        if (args->n != 3 || args->items[0]->kind != PK_TENSOR || args->items[1]->kind != PK_BOOL ||
            !empty_dict(args->items[2]))
            FAIL(op, "_rebuild_parameter needs (tensor, bool, empty dict)");
        return push(vm, args->items[0], op);
    case PK_G_STORAGE:
        FAIL(op, "REDUCE on storage class %s (refused)", pk_dtype_name(fn->dtype));
    }
    FAIL(op, "REDUCE on an unknown global");
}

static int op_build(pk_vm *vm, size_t op)
{
    pk_value *state = pop(vm), *obj = top(vm);
    if (!state || !obj)
        FAIL(op, "BUILD needs an object and its state");
    /* OrderedDict's __dict__ (torch's _metadata): kept out of the data */
    if (obj->kind == PK_DICT && state->kind == PK_DICT)
        return 0;
    FAIL(op, "BUILD on a %s (only a state dict's attributes are allowed)",
         obj->kind == PK_TENSOR ? "tensor" : "non-dict value");
}

static int valid_key(const pk_value *k)
{
    if (k->kind != PK_STR || k->len == 0 || k->len > 64)
        return 0;
    for (size_t j = 0; j < k->len; j++) {
        char c = k->s[j];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return 0;
    }
    return 1;
}

static int op_persid(pk_vm *vm, size_t op)
{
    /* ('storage', storage_type, key, location, numel[, view_metadata]) */
    pk_value *pid = pop(vm);
    if (!pid)
        FAIL(op, "BINPERSID with an empty stack");
    if (pid->kind != PK_TUPLE || (pid->n != 5 && pid->n != 6) || pid->items[0]->kind != PK_STR ||
        strcmp(pid->items[0]->s, "storage") != 0)
        FAIL(op, "persistent id is not a ('storage', ...) tuple");
    pk_value *const *a = pid->items;
    if (a[1]->kind != PK_GLOBAL || a[1]->global != PK_G_STORAGE)
        FAIL(op, "persistent id names no storage class");
    if (!valid_key(a[2]))
        FAIL(op, "storage key is not a short alphanumeric string");
    if (a[3]->kind != PK_STR)
        FAIL(op, "storage location is not a string");
    if (a[4]->kind != PK_INT || a[4]->i < 0)
        FAIL(op, "storage size is not a non-negative integer");
    pk_value *s = new_value(vm, PK_STORAGE, op);
    if (!s || !(s->s = strdup(a[2]->s)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    s->len = a[2]->len;
    s->dtype = a[1]->dtype;
    s->i = a[4]->i;
    if (pid->n == 6 && a[5]->kind != PK_NONE) {
        /* legacy view: (view_key, offset, view_size) of the root storage */
        const pk_value *vmeta = a[5];
        if (vmeta->kind != PK_TUPLE || vmeta->n != 3 || !valid_key(vmeta->items[0]) ||
            vmeta->items[1]->kind != PK_INT || vmeta->items[2]->kind != PK_INT ||
            vmeta->items[1]->i < 0 || vmeta->items[2]->i < 0)
            FAIL(op, "storage view metadata is not (key, offset, size)");
        /* the view is what tensors see: s names the root, the view key the view */
        if (!(s->view_key = strdup(vmeta->items[0]->s)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        s->view_offset = vmeta->items[1]->i;
        s->i = vmeta->items[2]->i;
    }
    if (vm->n_storages == vm->cap_storages) {
        size_t cap = vm->cap_storages ? 2 * vm->cap_storages : 64;
        pk_value **st = realloc(vm->storages, cap * sizeof *st);
        if (!st)
            return sg_fail(SG_E_NOMEM, "out of memory");
        vm->storages = st;
        vm->cap_storages = cap;
    }
    vm->storages[vm->n_storages++] = s;
    return push(vm, s, op);
}

/* ---- the loop ---------------------------------------------------------------- */

static int op_setitems(pk_vm *vm, pk_value **items, size_t n, size_t op)
{
    pk_value *d = top(vm);
    if (!d || d->kind != PK_DICT)
        FAIL(op, "SETITEM(S) on a value that is not a dict");
    if (n % 2)
        FAIL(op, "SETITEMS with an odd number of values");
    for (size_t j = 0; j < n; j++) {
        int rc = add_item(vm, d, items[j], op);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int op_appends(pk_vm *vm, pk_value **items, size_t n, size_t op)
{
    pk_value *l = top(vm);
    if (!l || l->kind != PK_LIST)
        FAIL(op, "APPEND(S) on a value that is not a list");
    for (size_t j = 0; j < n; j++) {
        int rc = add_item(vm, l, items[j], op);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int step(pk_vm *vm, reader *r, int *stop)
{
    size_t op = r->pos;
    unsigned char c = r->p[r->pos++];
    int rc = 0;
    size_t first = 0, count = 0;
    pk_value *v;
    switch (c) {
    case 0x80: /* PROTO */
        if ((rc = need(vm, r, 1, op)) != 0)
            return rc;
        if (r->p[r->pos] < 2 || r->p[r->pos] > 5)
            FAIL(op, "protocol %d is not supported (2-5)", r->p[r->pos]);
        r->pos++;
        return 0;
    case 0x95: /* FRAME: a length hint only */
        if ((rc = need(vm, r, 8, op)) != 0)
            return rc;
        r->pos += 8;
        return 0;
    case '.': /* STOP */
        *stop = 1;
        return 0;
    case '(': /* MARK */
        if (vm->n_marks >= PK_MAX_MARKS)
            FAIL(op, "more than %d open MARKs (stack depth limit)", PK_MAX_MARKS);
        vm->marks[vm->n_marks++] = vm->sp;
        return 0;
    case 'N':
        return push(vm, new_value(vm, PK_NONE, op), op);
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
        if (!(v = new_value(vm, PK_BOOL, op)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        v->i = c == 0x88;
        return push(vm, v, op);
    case 'J': case 'K': case 'M': { /* BININT, BININT1, BININT2 */
        int n = c == 'J' ? 4 : c == 'K' ? 1 : 2;
        if ((rc = need(vm, r, (size_t)n, op)) != 0)
            return rc;
        uint64_t u = le(r->p + r->pos, n);
        r->pos += (size_t)n;
        if (!(v = new_value(vm, PK_INT, op)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        v->i = c == 'J' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        return push(vm, v, op);
    }
    case 0x8a: { /* LONG1: n bytes, little-endian two's complement */
        if ((rc = need(vm, r, 1, op)) != 0)
            return rc;
        size_t n = r->p[r->pos++];
        if ((rc = need(vm, r, n, op)) != 0)
            return rc;
        if (n > 8)
            return push_string(vm, r, PK_BIGINT, n, op);
        uint64_t u = n ? le(r->p + r->pos, (int)n) : 0;
        if (n && n < 8 && (r->p[r->pos + n - 1] & 0x80))
            u |= ~(uint64_t)0 << (8 * n);
        r->pos += n;
        if (!(v = new_value(vm, PK_INT, op)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        v->i = (int64_t)u;
        return push(vm, v, op);
    }
    case 'G': { /* BINFLOAT: big-endian double */
        if ((rc = need(vm, r, 8, op)) != 0)
            return rc;
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u = (u << 8) | r->p[r->pos + (size_t)k];
        r->pos += 8;
        if (!(v = new_value(vm, PK_FLOAT, op)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        memcpy(&v->f, &u, sizeof v->f);
        return push(vm, v, op);
    }
    case 'X': case 'T': case 'B': /* BINUNICODE, BINSTRING, BINBYTES: 4-byte length */
        if ((rc = need(vm, r, 4, op)) != 0)
            return rc;
        r->pos += 4;
        return push_string(vm, r, c == 'B' ? PK_BYTES : PK_STR, le(r->p + r->pos - 4, 4), op);
    case 0x8c: case 'U': case 'C': /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES */
        if ((rc = need(vm, r, 1, op)) != 0)
            return rc;
        r->pos += 1;
        return push_string(vm, r, c == 'C' ? PK_BYTES : PK_STR, r->p[r->pos - 1], op);
    case 0x8d: case 0x8e: /* BINUNICODE8, BINBYTES8 */
        if ((rc = need(vm, r, 8, op)) != 0)
            return rc;
        r->pos += 8;
        return push_string(vm, r, c == 0x8e ? PK_BYTES : PK_STR, le(r->p + r->pos - 8, 8), op);
    case '}':
        return push(vm, new_value(vm, PK_DICT, op), op);
    case ']':
        return push(vm, new_value(vm, PK_LIST, op), op);
    case ')':
        return push(vm, new_value(vm, PK_TUPLE, op), op);
    case 't': case 'l': /* TUPLE, LIST */
        if ((rc = pop_mark(vm, op, &first, &count)) != 0)
            return rc;
        return make_seq(vm, c == 't' ? PK_TUPLE : PK_LIST, vm->stack + first, count, op);
    case 'd': /* DICT */
        if ((rc = pop_mark(vm, op, &first, &count)) != 0)
            return rc;
        if (count % 2)
            FAIL(op, "DICT with an odd number of values");
        /* the items sit just above the stack top: fill the dict, then push it */
        if (!(v = new_value(vm, PK_DICT, op)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t j = 0; j < count; j++)
            if ((rc = add_item(vm, v, vm->stack[first + j], op)) != 0)
                return rc;
        return push(vm, v, op);
    case 0x85: case 0x86: case 0x87: { /* TUPLE1-3 */
        size_t n = (size_t)(c - 0x84);
        size_t floor = vm->n_marks ? vm->marks[vm->n_marks - 1] : 0;
        if (vm->sp < floor + n)
            FAIL(op, "TUPLE%zu with %zu values on the stack", n, vm->sp - floor);
        vm->sp -= n;
        return make_seq(vm, PK_TUPLE, vm->stack + vm->sp, n, op);
    }
    case 'a': { /* APPEND */
        pk_value *item = pop(vm);
        if (!item)
            FAIL(op, "APPEND with an empty stack");
        return op_appends(vm, &item, 1, op);
    }
    case 'e': /* APPENDS */
        if ((rc = pop_mark(vm, op, &first, &count)) != 0)
            return rc;
        return op_appends(vm, vm->stack + first, count, op);
    case 's': { /* SETITEM */
        pk_value *val = pop(vm), *key = pop(vm);
        if (!val || !key)
            FAIL(op, "SETITEM needs a key and a value");
        pk_value *kv[2] = {key, val};
        return op_setitems(vm, kv, 2, op);
    }
    case 'u': /* SETITEMS */
        if ((rc = pop_mark(vm, op, &first, &count)) != 0)
            return rc;
        return op_setitems(vm, vm->stack + first, count, op);
    case '0': /* POP */
        if (!pop(vm))
            FAIL(op, "POP with an empty stack");
        return 0;
    case '1': /* POP_MARK */
        return pop_mark(vm, op, &first, &count);
    case '2': /* DUP */
        if (!(v = top(vm)))
            FAIL(op, "DUP with an empty stack");
        return push(vm, v, op);
    case 'q': case 'h': /* BINPUT, BINGET */
        if ((rc = need(vm, r, 1, op)) != 0)
            return rc;
        r->pos += 1;
        return c == 'q' ? memo_put(vm, r->p[r->pos - 1], op) : memo_get(vm, r->p[r->pos - 1], op);
    case 'r': case 'j': /* LONG_BINPUT, LONG_BINGET */
        if ((rc = need(vm, r, 4, op)) != 0)
            return rc;
        r->pos += 4;
        return c == 'r' ? memo_put(vm, (size_t)le(r->p + r->pos - 4, 4), op)
                        : memo_get(vm, (size_t)le(r->p + r->pos - 4, 4), op);
    case 0x94: /* MEMOIZE */
        return memo_put(vm, vm->n_memo, op);
    case 'c': { /* GLOBAL */
        char module[128], name[128];
        if ((rc = read_line(vm, r, module, sizeof module, op)) != 0 ||
            (rc = read_line(vm, r, name, sizeof name, op)) != 0)
            return rc;
        return push_global(vm, module, name, op);
    }
    case 0x93: { /* STACK_GLOBAL */
        pk_value *name = pop(vm), *module = pop(vm);
        if (!name || !module || name->kind != PK_STR || module->kind != PK_STR)
            FAIL(op, "STACK_GLOBAL needs two strings");
        return push_global(vm, module->s, name->s, op);
    }
    case 'R':
        return op_reduce(vm, op);
    case 'b':
        return op_build(vm, op);
    case 'Q':
        return op_persid(vm, op);
    default:
        if (c >= 0x20 && c < 0x7f)
            FAIL(op, "opcode 0x%02x ('%c') is not allowed", c, c);
        FAIL(op, "opcode 0x%02x is not allowed", c);
    }
}

int pk_vm_load(pk_vm *vm, const unsigned char *buf, size_t len, const char *what, size_t base,
               pk_value **out, size_t *used)
{
    if (!vm || !buf || !out)
        return sg_fail(SG_E_INVALID, "pk_vm_load: NULL argument");
    vm->what = what ? what : "pickle";
    vm->base = base;
    vm->sp = 0;
    vm->n_marks = 0;
    vm->n_memo = 0;
    if (!vm->stack && !(vm->stack = malloc(PK_MAX_STACK * sizeof *vm->stack)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (!vm->marks && !(vm->marks = malloc(PK_MAX_MARKS * sizeof *vm->marks)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    reader r = {buf, len, 0};
    int stop = 0, rc = 0;
    if (len < 2 || buf[0] != 0x80)
        FAIL(0, "not a binary pickle (no PROTO opcode; protocols 2-5 only)");
    while (!stop) {
        if (r.pos >= r.len)
            FAIL(r.pos, "truncated pickle (no STOP)");
        if ((rc = step(vm, &r, &stop)) != 0)
            return rc;
    }
    if (vm->sp != 1 || vm->n_marks)
        FAIL(r.pos - 1, "STOP with %zu values and %zu marks on the stack (expected one value)", vm->sp,
             vm->n_marks);
    *out = vm->stack[0];
    if (used)
        *used = r.pos;
    return 0;
}
