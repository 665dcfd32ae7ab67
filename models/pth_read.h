/* pth_read.h - PyTorch .pth files (torch.save) read without Python.
 *
 * Both of torch.save's formats: the zip archive of torch >= 1.6
 * (PREFIX/data.pkl, PREFIX/data/KEY, PREFIX/byteorder; read with libzip)
 * and the legacy stream of older torch (magic number, protocol, sys info,
 * the object, the storage keys, then each storage as an 8-byte element
 * count and its bytes).  The pickle goes through models/pickle_vm.c, so
 * nothing in the file is ever executed.  Files are UNTRUSTED: every
 * storage is checked against the bytes the archive really holds, every
 * tensor's offset, sizes and strides against its storage, with overflow
 * checks, before any value is copied.
 *
 * The result is an in-memory sg_st_file (models/safetensors.h), so the
 * rest of the program loads, inspects and converts a .pth exactly as it
 * does a .safetensors file: each tensor copied out contiguous (views and
 * non-contiguous slices resolved), in its own dtype (F32, F16, BF16, F64,
 * I64).  Which dict is the state dict: KEY when given; else the top-level
 * dict if all its values are tensors; else the first of "state_dict",
 * "model", "model_state_dict", "net" that is one.  DataParallel/DDP's
 * "module." prefix is removed when every name has it.  Metadata records
 * "format" (pth-zip or pth-legacy) and "state_dict_key".
 */
#ifndef SG_PTH_READ_H
#define SG_PTH_READ_H

#include <stddef.h>

#include "models/safetensors.h"

/* 1 when buf (len bytes, a file's start) looks like a .pth: a zip
 * archive or a legacy pickle stream; 0 otherwise. */
int sg_pth_sniff(const unsigned char *buf, size_t len);

/* Reads path into f (caller closes it with sg_st_close); key picks the
 * state dict inside a checkpoint (NULL: automatic, see above).  Fails
 * with SG_E_IO / SG_E_CORRUPT and one line naming path, leaving f
 * zeroed. */
int sg_pth_open(sg_st_file *f, const char *path, const char *key);

/* The same from a buffer (borrowed; name is used in messages). */
int sg_pth_open_mem(sg_st_file *f, const unsigned char *buf, size_t len, const char *name,
                    const char *key);

#endif
