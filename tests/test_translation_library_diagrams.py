"""The schematics of lessons 1-3: each returns a Figure and draws the parts the lesson names."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from attnkit.library.diagrams import library_lookup_diagram  # noqa: E402
from attnkit.translation.diagrams import attention_step_diagram, encoder_decoder_diagram  # noqa: E402


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def test_encoder_decoder_diagram_draws_both_translators():
    fig = encoder_decoder_diagram()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    drawn = texts(fig)
    for label in ("summary: D numbers", "$h_{1}$", "$h_{4}$", "$s_{4}$", "$c_{3}$", "the", "noir"):
        assert label in drawn, f"{label!r} missing from the diagram"
    assert any("fixed vector" in t for t in drawn) and any("weighted mix of all S states" in t for t in drawn)
    plt.close(fig)


def test_attention_step_diagram_draws_the_given_weights_as_arrow_widths():
    source, target = "the black cat sat".split(), "le chat noir assis".split()
    fig = attention_step_diagram([0.05, 0.8, 0.1, 0.05], source, target, step=2)
    drawn = texts(fig)
    assert "80%" in drawn and "10%" in drawn and "$c_{3}$" in drawn
    widths = sorted(p.get_linewidth() for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch))
    assert widths[-1] == pytest.approx(0.4 + 6 * 0.8), "the heaviest arrow is the 80% weight's"
    plt.close(fig)


@pytest.mark.parametrize("weights, step", [([0.5, 0.5], 2), ([0.25] * 4, 4)])
def test_attention_step_diagram_names_a_wrong_argument(weights, step):
    with pytest.raises(ValueError, match="weights|step"):
        attention_step_diagram(weights, "the black cat sat".split(), "le chat noir assis".split(), step)


def test_library_lookup_diagram_labels_query_keys_values_weights_output():
    fig = library_lookup_diagram(["A", "B", "C"], weights=[0.7, 0.2, 0.1])
    drawn = " | ".join(texts(fig))
    for label in ("query q", "keys K (S, D)", "values V (S, $d_v$)", "softmax(scores / T)", "output",
                  "$w_{1}$ = 70%", "$w_{3}$ = 10%", "$k_{2}$"):
        assert label in drawn, f"{label!r} missing from the diagram"
    plt.close(fig)


def test_library_lookup_diagram_rejects_weights_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"expected \(S,\) = \(3,\)"):
        library_lookup_diagram(["A", "B", "C"], weights=[0.5, 0.5])
