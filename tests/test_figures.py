import pytest
"""The figure set builds from a tiny config: every figure at both widths, fonts embedded, a report that shows them."""
import re

from experiments.figures import FIGURES, main

TINY = ["model=mlp", "train.epochs=1", "experiment.num_realizations=2", "experiment.snr_db=[0,10]",
        "scheme.pruning_kd.steps=1", "scheme.pruning_kd.finetune_epochs=1", "scheme.spectrum.epochs=1",
        "scheme.uep.draws=2", "scheme.digital_capacity.bits=[2,4]", "scheme.digital_capacity.finetune_candidates=1",
        "scheme.digital_capacity.validation_draws=2", "scheme.digital_capacity.mixed_precision=false",
        "link.k_max=2048", "progress=false"]


pytestmark = pytest.mark.slow      # every test here trains models


def test_figure_set_from_a_tiny_config(tmp_path):
    out = tmp_path / "figures"
    report = main(["--out", str(out), *TINY, f"cache_dir={tmp_path}/cache"])
    text = report.read_text()
    for spec in FIGURES:
        for width in ("column", "page"):
            pdf = (out / f"{spec.name}_{width}.pdf").read_bytes()
            assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf, (spec.name, width)   # TrueType embedded
            assert (out / f"{spec.name}_{width}.png").stat().st_size > 10_000
        assert f"![{spec.name}]({spec.name}_page.png)" in text
        section = text.split(f"## {spec.title}")[1].split("\n## ")[0]
        assert "python -m experiments.sweep " in section and re.search(r"Config hash: `[0-9a-f]{12}`", section)
        assert re.search(r"\| \d\.\d{3} \| \[\d\.\d{3}, \d\.\d{3}\] \|", section)      # mean and interval rows
        # every figure states its planned contrasts; one seed: paired over draws, and no power table
        assert "Planned contrasts (" in section and "seed variability is not included" in section, spec.name
        assert ("| draws |" in section or "untestable (one seed, no common draws)" in section) and \
            "power table: needs contrasts paired over 2" in section
    # a second run reuses every finished point and trained model: the same section, byte for byte (one figure, to
    # keep the suite short; every figure goes through the same build)
    again = main(["--out", str(out), "--only", "cliff", *TINY, f"cache_dir={tmp_path}/cache"]).read_text()
    section = lambda t: t.split("## Matched vs designed")[1].split("\n## ")[0]  # noqa: E731
    assert section(again) == section(text)
