"""The committed example files match what the bundled data yields, and load as dspy.Examples."""

from themepage.constants import BUNDLED_DATA_DIR
from themepage.dataset import read_dataset
from themepage.dataset.cases import split_of
from themepage.trainsets.loader import TRAINSETS_DIR, load_examples, write_trainsets


def test_committed_trainsets_are_current(tmp_path):
    counts = write_trainsets(read_dataset(BUNDLED_DATA_DIR), tmp_path)
    for split in counts:
        assert (tmp_path / f"{split}.jsonl").read_text() == (TRAINSETS_DIR / f"{split}.jsonl").read_text(), (
            f"trainsets/{split}.jsonl is stale: run `themepage trainsets`")


def test_examples_mark_inputs_and_respect_the_split():
    train, dev = load_examples("train"), load_examples("dev")
    assert train and dev
    assert set(train[0].inputs().keys()) == {"user_id", "history"}
    assert set(train[0].labels().keys()) == {"target"}
    assert {split_of(e.user_id) for e in train} == {"train"}
    assert {split_of(e.user_id) for e in dev} == {"dev"}
    assert not {e.user_id for e in train} & {e.user_id for e in dev}
    assert all(len(e.history.orders) >= 2 and e.target for e in train)
