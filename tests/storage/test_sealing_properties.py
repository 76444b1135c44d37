"""Properties of sealing personal data (storage/crypto.py) and of erasure.

* sealing then opening a document gives it back, whatever it holds, and the sealed form holds
  none of the numbers put in it;
* erasing a case, after any history, leaves a history that replays to the stored case's status
  and version, with no personal value readable in it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from zhenshen_core.model.case import Requester
from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.privacy._fields import walk_personal
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.privacy.rights import erase_cases
from zhenshen_core.storage import MemoryStore
from zhenshen_core.storage.crypto import ERASED, Vault, _is_sealed
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

VAULT = Vault(MasterKey.generate("the property tests' key"))

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["110105", "510107", "440305"]))
    birth = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2020, 12, 31)))
    body = f"{area}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18


HAN = "企业反映审批材料多次被退回请求协调电话身份证号码联系人，。"
han = st.text(alphabet=HAN, max_size=20)
#: What stands between two numbers: written text, never another digit (a number run into
#: another is one longer number, which the detector rightly does not split).
gap = st.text(alphabet=HAN, min_size=1, max_size=20)
numbers = st.one_of(mobiles, id_numbers())


@st.composite
def texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Chinese text with zero to three numbers inside, and the numbers."""
    found = draw(st.lists(numbers, max_size=3))
    parts = [draw(han)]
    for number in found:
        parts += [number, draw(gap)]
    return "".join(parts), found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | han,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(han, inner, max_size=3),
    max_leaves=8,
)


@given(texts(), json_values, mobiles)
def test_an_event_repeating_the_cases_values_is_sealed_as_a_walk_of_it_would_be(
    text: tuple[str, list[str]], extra: Any, phone: str
) -> None:
    # Values an event shares with the case (a decide event's decision, here the facts) are
    # taken from the sealed case document instead of walked again: the same as walking them.
    content, _ = text
    requester = Requester(name="张先生", phone=phone)
    case, events = received(make_case(1, content=content, requester=requester))
    # The first update's facts are the case's no more: walked; the last one's are.
    case, first = fire(case, "update_facts", {"facts": {"note": f"张先生 {content}"}})
    case, last = fire(case, "update_facts", {"facts": {"note": content, "x": extra}})
    sealing = VAULT.sealing(case.id, None)
    _, event_texts = VAULT.seal_case(sealing, case, [*events, first, last])
    for event, sealed in zip([first, last], event_texts[-2:], strict=True):
        walked = walk_personal(
            event.payload,
            sealing.on_field,
            sealing.on_text,
            ["张先生"],
            skip=_is_sealed,
            cache=sealing.cache,
        )
        assert json.loads(sealed)["payload"] == walked


@given(texts(), json_values, mobiles)
def test_seal_then_open_is_the_identity_and_hides_every_number(
    text: tuple[str, list[str]], extra: Any, phone: str
) -> None:
    content, found = text
    case, events = received(
        make_case(1, content=content, requester=Requester(phone=phone), facts={"x": extra})
    )
    sealing = VAULT.sealing(case.id, None)
    doc, event_texts = VAULT.seal_case(sealing, case, events)
    stored = json.dumps(doc, ensure_ascii=False) + "".join(event_texts)
    for number in [*found, phone]:
        assert number not in stored
    wrapped = VAULT.wrap(sealing.key, case.id) if sealing.key else None
    assert VAULT.open_case(json.dumps(doc), wrapped, case.id) == case
    key = VAULT.key_of(wrapped, case.id)
    assert [VAULT.open_event(t, key, case.id) for t in event_texts] == events


STEPS = st.lists(
    st.sampled_from(["note", "accept", "start_screening", "request_info", "provide_info"]),
    max_size=6,
)


@given(STEPS, texts(), mobiles)
def test_erasure_leaves_a_history_that_replays(
    steps: list[str], text: tuple[str, list[str]], phone: str
) -> None:
    content, found = text
    store = MemoryStore(pii_key=VAULT.master)
    case, events = received(
        make_case(1, content=content, requester=Requester(name="王小明", phone=phone))
    )
    store.ingest(case, events)
    for step in steps:
        payload = {"text": content or "备注"} if step == "note" else None
        if step == "request_info":
            payload = {"reason": f"请联系{phone}"}
        if step not in Lifecycle().allowed_events(case.status):
            continue
        new, event = fire(case, step, payload)
        store.save(new, [event], expected_version=case.version)
        case = new
    erase_cases(store, [case.id], actor="property", at=BASE_TIME + timedelta(days=1))
    stored = store.get(case.id)
    replayed = Lifecycle().replay(store.events(case.id))
    assert (replayed.status, replayed.version) == (stored.status, stored.version)
    assert stored.requester == Requester(name=ERASED, phone=ERASED)
    history = json.dumps([e.model_dump(mode="json") for e in store.events(case.id)])
    for number in [*found, phone]:
        assert number not in history and number not in stored.model_dump_json()
