"""Test helpers for zhenshen_core and its plugins.

:mod:`zhenshen_core.testing.storage_contract` holds the contract suite every storage backend
reuses (``StoreContract``, ``StoreStateMachine``, ``make_case``). It is imported on demand, not
here, because it needs pytest and hypothesis, which an application embedding the library does
not install.
"""
