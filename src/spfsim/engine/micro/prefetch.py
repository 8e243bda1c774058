"""Software prefetch for the micro engine's passes that follow links to distant slots.

A household's members mostly lie far from its reference person's slot, and a person's
partner and parents far from the person (docs/micro.md): a pass that follows such links
waits on memory at almost every step, one cache miss at a time, since the processor does
not know the next address until the loop reaches it. The link of a slot a few dozen steps
ahead is already known, so the pass can ask for that row early (:func:`prefetch_row`) and
find it in the cache when it gets there. Measured on the households of the last year of a
1,000,000-person, 50-year default run (1.82 million slots): adding the members' incomes
into their households took 14.6 ms instead of 32.4 (medians of 12, alternated).

A prefetch is a hint: it changes no value, only when memory arrives, so results are
bitwise the same with or without it. Without the JIT (NUMBA_DISABLE_JIT=1) it does
nothing.
"""

from __future__ import annotations

import numba as nb
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

#: how many slots ahead a pass prefetches: far enough for a miss to main memory (about
#: 100 ns) to arrive while the pass works on the slots between, near enough that the
#: lines fetched are still in the cache (on the households above, 8 to 96 ahead all
#: halved the time)
AHEAD = 32


def _prefetch_row_python(array, row) -> None:
    """Without the JIT: nothing (a hint)."""


@intrinsic
def _prefetch_row_llvm(typingctx, array, row):
    """``llvm.prefetch`` (a read, kept in every cache level) of the first byte of
    ``array[row]``: the data pointer plus ``row`` times the first stride."""
    if not isinstance(array, types.Array) or not isinstance(row, types.Integer):
        return None
    signature = types.void(array, row)

    def codegen(context, builder, signature, args):
        array_type, row_type = signature.args
        parts = context.make_array(array_type)(context, builder, args[0])
        strides = cgutils.unpack_tuple(builder, parts.strides, array_type.ndim)
        offset = builder.mul(context.cast(builder, args[1], row_type, types.intp), strides[0])
        address = builder.add(builder.ptrtoint(parts.data, offset.type), offset)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer],
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]))
        # read (0), locality 3 (keep in all levels), data cache (1)
        builder.call(function, [builder.inttoptr(address, byte_pointer), ir.Constant(i32, 0),
                                ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


#: prefetch_row(array, row): ask for the memory of ``array[row]`` (any array, rows along
#: its first axis) ahead of its use; ``row`` must lie inside the array
prefetch_row = _prefetch_row_python if nb.config.DISABLE_JIT else _prefetch_row_llvm
