"""Rule packs as files: YAML read with positions, ``extends`` resolved, every rule checked, and
the engine-neutral ``ResolvedPack`` built (``load_pack``).

Import the modules themselves (this package re-exports nothing, so ``zhenshen eval`` loads only
what reading a pack needs).
"""
