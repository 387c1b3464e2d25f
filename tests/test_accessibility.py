"""Every figure attnkit draws carries a text alternative with its numbers, shown where Jupyter shows it.

* each drawing function of the package attaches its own alt text (not the generic description),
  and that text names the numbers the figure shows (weights, accuracies, shapes, scores);
* no drawing function is left out: every public ``plot_*``, ``draw_*`` and ``*_diagram`` is listed here;
* in a real kernel a figure is displayed as ``text/html`` (``<img alt>`` + caption), ``image/png`` with an
  ``alt`` metadata key and ``text/plain``; a plain-matplotlib figure gets a description of its artists;
  nbconvert's HTML keeps the ``alt``;
* colour never tells lines or the spotlight's peak apart alone; the explorer announces its redraws.
"""
import html
import importlib
import inspect
import pkgutil
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import attnkit  # noqa: E402
from attnkit import accessible  # noqa: E402
from attnkit.accessible import alt_text  # noqa: E402

SOURCE, FRENCH = ["the", "black", "cat", "sat"], ["le", "chat", "noir", "assis"]
WEIGHTS = np.array([[0.81, 0.07, 0.07, 0.05], [0.05, 0.13, 0.77, 0.05], [0.04, 0.9, 0.03, 0.03],
                    [0.1, 0.1, 0.1, 0.7]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _maps():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(6), size=(2, 3, 6))  # (layers, H, L, L)
    w[1, 2] = np.eye(6, k=-1) + np.eye(6)[:, :1] * np.eye(6)[:1, :1]  # layer 1 head 2: previous word
    w[1, 2, 0, 0] = 1.0
    return w


def _cases():
    """(function name, call, numbers its alt text must name)."""
    from attnkit.diagrams import draw_head_split, draw_masks, draw_qkv_pipeline, draw_self_attention
    from attnkit.experiments.plots import (
        plot_arithmetic,
        plot_scaling_experiment,
        plot_softmax_temperatures,
        plot_timing,
    )
    from attnkit.experiments.temperature_scaling import ScalingExperiment
    from attnkit.experiments.timing import TimingResult
    from attnkit.library.diagrams import library_lookup_diagram, plot_temperature_sweep
    from attnkit.plotting import plot_attention, plot_spotlight
    from attnkit.transformer.figure import draw_transformer
    from attnkit.transformer.head_patterns import pattern_scores, plot_head_grid, plot_head_values, plot_pattern_maps
    from attnkit.transformer.live_training import plot_loss_curve
    from attnkit.transformer.positional import plot_positional_encoding, sinusoidal_encoding
    from attnkit.translation.diagrams import (
        attention_step_diagram,
        draw_attention,
        draw_fixed_vector,
        encoder_decoder_diagram,
    )
    from attnkit.translation.plots import plot_accuracy_curves, plot_spotlights

    maps = _maps()
    temperatures = np.array([0.1, 1.0, 10.0])
    sweep = np.array([[0.9, 0.1], [0.6, 0.4], [0.52, 0.48]])  # (T, S)
    scaling = ScalingExperiment(d_k=np.array([4, 64]), num_keys=16, score_variance_unscaled=np.array([4.0, 64.0]),
                                score_variance_scaled=np.array([1.0, 1.0]), max_weight_unscaled=np.array([0.4, 0.9]),
                                max_weight_scaled=np.array([0.3, 0.31]), grad_norm_unscaled=np.array([0.5, 0.05]),
                                grad_norm_scaled=np.array([0.6, 0.55]))
    timing = TimingResult(("loop", "attention"), (10, 100), np.array([[[1e-3, 2e-3], [1e-2, 2e-2]],
                                                                    [[1e-4, 1e-4], [2e-4, 3e-4]]]), 1)
    curves = {"fixed vector, D=128": {3: 0.98, 12: 0.71, 30: 0.34}, "attention, D=128": {3: 1.0, 12: 0.97, 30: 0.93}}
    return [
        ("plot_attention", lambda: plot_attention(WEIGHTS, FRENCH, SOURCE, title="t"),
         ["'le': 'the' 81%", "'noir': 'black' 90%", "4 queries", "4 keys"]),
        ("plot_attention", lambda: plot_attention(WEIGHTS, FRENCH, SOURCE, marked=[0, 2, 1, 3]),
         ["Red squares mark the true alignment", "'chat': 'cat' 77%", "'noir': 'black' 90%",
          "4 of 4 rows have their largest weight on the marked key"]),
        ("plot_spotlight", lambda: plot_spotlight(WEIGHTS[2], SOURCE, title="writing 'noir'"),
         ["'black' with 90%", "'the' 4%", "'sat' 3%"]),
        ("plot_accuracy_curves", lambda: plot_accuracy_curves(curves, title="c"),
         ["fixed vector, D=128: 0.98 at 3, 0.34 at 30", "attention, D=128: 1 at 3, 0.93 at 30"]),
        ("plot_spotlights", lambda: plot_spotlights(WEIGHTS, FRENCH, SOURCE, rows=[0, 2]),
         ["'the' with 81%", "'black' with 90%", "2 bar charts"]),
        ("draw_qkv_pipeline", lambda: draw_qkv_pipeline(L=5, S=3, d_k=2, d_v=4),
         ["Q (5, 2)", "K (3, 2)", "weights (5, 3)", "output (5, 4)"]),
        ("draw_masks", lambda: draw_masks(), ["row 0: T F F F F", "row 4: T T T T T", "row 0 has every key masked"]),
        ("draw_head_split", lambda: draw_head_split(L=5, D=12, H=3),
         ["(5, 12)", "head 2 gets columns 8 to 11", "(3, 5, 4)"]),
        ("draw_self_attention", lambda: draw_self_attention(("a", "b"), np.array([[0.25, 0.75], [1.0, 0.0]])),
         ["'a' -> 'a' 25%, 'b' 75%", "'b' -> 'a' 100%, 'b' 0%"]),
        ("encoder_decoder_diagram", lambda: encoder_decoder_diagram(), ["h_2 ('black') 90%", "h_1 to h_4"]),
        ("attention_step_diagram", lambda: attention_step_diagram(WEIGHTS[2], SOURCE, FRENCH, step=2),
         ["t = 3", "'noir'", "h_2 ('black') 90%", "h_3 ('cat') 3%"]),
        ("draw_fixed_vector", lambda: draw_fixed_vector(plt.subplots()[1]), ["4 source words", "4 decoder steps"]),
        ("draw_attention", lambda: draw_attention(plt.subplots()[1], weights=WEIGHTS[1], step=1),
         ["t = 2", "h_3 ('cat') 77%"]),
        ("library_lookup_diagram", lambda: library_lookup_diagram(weights=[0.5, 0.25, 0.15, 0.1]),
         ["'Neural networks' 50%", "'Pasta at home' 10%", "4 books"]),
        ("draw_transformer", lambda: draw_transformer(num_layers=2, d_model=64),
         ["repeated 2 times", "(B, S, 64)", "Masked multi-head self-attention (causal mask)"]),
        ("plot_head_grid", lambda: plot_head_grid(maps, ["[CLS]", "a", "b", "c", "d", "[SEP]"]),
         ["2 x 3", "layer 1: ", "head 2 previous 1", "[CLS] a b c d [SEP]"]),
        ("plot_pattern_maps", lambda: plot_pattern_maps(pattern_scores([maps])),
         ["'previous word': best heads layer 1 head 2 1", "2 layers", "3 heads"]),
        ("plot_softmax_temperatures", lambda: plot_softmax_temperatures(temperatures, sweep, ["'cat' (2)", "'sat' (0)"],
                                                                        marks={"T = 1": 1.0}, target=0.75),
         ["'cat' (2) 90%", "at T = 1: 'cat' (2) 60%, 'sat' (0) 40%", "at T = 10: 'cat' (2) 52%", "weight 0.75"]),
        ("plot_scaling_experiment", lambda: plot_scaling_experiment(scaling),
         ["variance of the scores: q . k 4 at d_k = 4, 64 at d_k = 64", "mean largest softmax weight",
          "0.9 at d_k = 64", "S = 16"]),
        ("plot_timing", lambda: plot_timing(timing, title="t"),
         ["loop: 1.5 at L = 10, 15 at L = 100", "attention: 0.1 at L = 10, 0.25 at L = 100", "60 times", "2 runs"]),
        ("plot_arithmetic", lambda: plot_arithmetic([10, 100], {"GRU": [600, 6000], "attention": [300, 9000]}, 40),
         ["GRU: 600 at L = 10, 6e+03 at L = 100", "attention: 300 at L = 10, 9e+03 at L = 100", "L = 40"]),
        ("plot_temperature_sweep", lambda: plot_temperature_sweep(temperatures, sweep, ["Birds", "Pasta"],
                                                                  [0.33, 0.67, 0.69], chosen=1.0),
         ["'Birds' 90%", "at T = 1 the heaviest books are 'Birds' 60%, 'Pasta' 40%, entropy 0.67", "log S = 0.69",
          "2 books"]),
        ("plot_head_values", lambda: plot_head_values(np.array([[0.1, 0.9], [0.3, 0.05]]), "w"),
         ["2 layers", "2 heads", "layer 0 head 1 0.9, layer 1 head 0 0.3", "median 0.2", "2 of 4 heads above 0.2"]),
        ("plot_positional_encoding", lambda: plot_positional_encoding(sinusoidal_encoding(30, 8), pairs=(0, 1)),
         ["30 positions, D = 8", "column 0 repeats every 6.28 positions", "column 2 repeats every 62.8",
          "4 at distance 0"]),
        ("plot_loss_curve", lambda: plot_loss_curve([4.0, 2.0, 1.0], reference=0.0001),
         ["3 steps", "starts at 4", "lowest is 1", "1.0e-04"]),
    ]


CASES = _cases()


@pytest.mark.parametrize("name, draw, numbers", CASES, ids=[c[0] for c in CASES])
def test_every_drawing_function_gives_its_own_alt_text_with_the_numbers_shown(name, draw, numbers):
    drawn = draw()
    assert accessible.own_alt(drawn) and accessible.alt_source(drawn) == "own", (
        f"{name} attaches no alt text of its own (only the generic description)")
    text = alt_text(drawn)
    for number in numbers:
        assert number in text, f"{name}: its alt text does not name {number!r}:\n{text}"
    figure = drawn if isinstance(drawn, matplotlib.figure.Figure) else drawn.figure
    assert alt_text(figure).count(text[:60]) == 1, f"{name}: the figure's alt text carries its panel's"


def test_no_drawing_function_is_left_out():
    """A new plot_*/draw_*/*_diagram anywhere in attnkit must be added to CASES (and give alt text)."""
    found = set()
    for module in pkgutil.walk_packages(attnkit.__path__, "attnkit."):
        if ".grading" in module.name:
            continue
        mod = importlib.import_module(module.name)
        for name, obj in inspect.getmembers(mod, inspect.isfunction):
            if obj.__module__ == mod.__name__ and not name.startswith("_") and (
                    re.match(r"(plot|draw)_", name) or name.endswith("_diagram")):
                found.add(name)
    assert found == {c[0] for c in CASES}


def test_a_plain_matplotlib_figure_is_described_from_its_artists():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([1, 10, 100], [0.5, 0.25, 0.125], label="variance")
    left.axhline(0.2, ls=":", label="uniform 1/S")
    left.set(xscale="log", xlabel="d_k", title="scaled")
    right.imshow(np.array([[0.0, 1.0], [2.0, 3.0]]))
    fig.suptitle("two panels")
    text = alt_text(fig)
    for part in ["two panels", "2 panels", "'scaled'", "d_k (log scale)", "variance: 3 points, x 1 to 100",
                 "0.5 at x = 1, 0.125 at x = 100", "uniform 1/S: horizontal line at y = 0.2",
                 "heatmap of 2 rows by 2 columns, values 0 to 3", "rows: 0 1; 2 3"]:
        assert part in text, f"{part!r} missing from:\n{text}"


def test_figure_html_has_the_alt_text_on_the_image_and_in_a_caption():
    ax = attnkit.plot_attention(WEIGHTS, FRENCH, SOURCE)
    page = accessible.figure_html(ax.figure)
    alt = re.search(r'<img [^>]*alt="([^"]*)"', page).group(1)
    assert html.unescape(alt) == alt_text(ax.figure) and "'noir': 'black' 90%" in html.unescape(alt)
    assert html.escape(alt_text(ax.figure), quote=True) in page.split("<details>")[1], "the words, visible too"


def test_colour_never_tells_lines_or_the_peak_apart_alone():
    from attnkit.translation.plots import plot_accuracy_curves

    ax = plot_accuracy_curves({f"model {k}": {1: 0.9, 2: 0.5} for k in range(6)})
    styles = [(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()]
    assert len(set(styles)) == 6, f"lines differ by colour only: {styles}"
    ax = attnkit.plot_spotlight(WEIGHTS[2], SOURCE)
    hatches = [bar.get_hatch() for bar in ax.patches]
    assert hatches[1] and not any(hatches[k] for k in (0, 2, 3)), "the largest weight is hatched, the others not"


def test_plain_matplotlib_lines_differ_by_style_in_the_course_style():
    with matplotlib.rc_context():
        accessible.course_style()
        _, ax = plt.subplots()
        cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()
        assert len(set(map(str, cycle["linestyle"]))) == len(set(cycle["color"])) == len(accessible.LINE_STYLES)
        lines = [ax.plot([0, 1], [k, k])[0] for k in range(4)]
        assert len({line.get_linestyle() for line in lines}) == 4, "the first four lines: solid, dashed, -., dotted"


def _contrast(color: str) -> float:
    rgb = np.array(matplotlib.colors.to_rgb(color))
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return 1.05 / (float(linear @ [0.2126, 0.7152, 0.0722]) + 0.05)


def test_line_colours_have_3_to_1_contrast_on_white():
    assert all(_contrast(c) >= 3 for c in accessible.OKABE_ITO), [round(_contrast(c), 2) for c in accessible.OKABE_ITO]


# in a real kernel --------------------------------------------------------------------------------

KERNEL_CELLS = ["import numpy as np\nimport matplotlib.pyplot as plt\nfrom attnkit import plot_attention",
                "plot_attention(np.array([[0.9, 0.1], [0.3, 0.7]]), ['le', 'chat'], ['the', 'cat']);",
                "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [3.5, 1.5, 2.5], label='loss')\nax.set_title('raw');",
                "%matplotlib inline\nplot_attention(np.eye(2), title='after the magic');"]


@pytest.fixture(scope="module")
def executed():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in KERNEL_CELLS])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    return nb


def _figures(nb):
    return [o for cell in nb.cells for o in cell.outputs if "image/png" in o.get("data", {})]


def test_a_kernel_shows_each_figure_as_html_with_alt_and_png_with_alt_metadata(executed):
    shown = _figures(executed)
    assert len(shown) == 3, "one figure per drawing cell"
    wanted = ["'le': 'the' 90%", "loss: 3 points", "'after the magic'"]
    for output, words in zip(shown, wanted):
        assert set(output.data) >= {"text/html", "image/png", "text/plain"}
        alt = html.unescape(re.search(r'<img [^>]*alt="([^"]*)"', output.data["text/html"]).group(1))
        assert words in alt and output.metadata["image/png"]["alt"] == alt == output.data["text/plain"]


def test_a_kernel_marks_which_figures_fall_back_to_the_automatic_description(executed):
    """attnkit's figures say their alt text is their own; the raw ax.plot falls back (the browser test
    fails on any lesson figure that does) and every figure carries its smallest text's size."""
    shown = [output.data["text/html"] for output in _figures(executed)]
    sources = [re.search(r'class="attnkit-figure attnkit-alt-(\w+)"', page).group(1) for page in shown]
    assert sources == ["own", "described", "own"]
    sizes = [float(re.search(r'data-smallest-text-px="([\d.]+)"', page).group(1)) for page in shown]
    assert all(10 <= px <= 20 for px in sizes), sizes  # matplotlib's 10 pt ticks at 100 dpi: 13.9 px


def test_nbconvert_html_keeps_the_alt_text(executed):
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(executed)
    alts = [html.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', page)]
    assert len(alts) == 3 and "'le': 'the' 90%" in alts[0]


# widgets ------------------------------------------------------------------------------------------

def test_the_explorer_names_every_control_and_announces_each_redraw():
    from attnkit.translation.training import load_pretrained

    pytest.importorskip("ipywidgets")
    model = load_pretrained("attention_128")
    from attnkit.translation.plots import spotlight_explorer

    box = spotlight_explorer(model, "the black cat sat", row=2)
    text, (pick, temperature), status = box.children[0], box.children[1].children, box.children[3]
    assert all(w.description.strip(": ") for w in (text, pick, temperature)), "every control has a name"
    assert "attnkit-live" in status._dom_classes
    first = html.unescape(status.value)
    assert "French: le chat noir assis" in first and "Redrawn:" in first and "'noir': 'black'" in first
    temperature.value = 10.0
    assert html.unescape(status.value) != first and "temperature 10" in html.unescape(status.value)


def test_pages_the_course_writes_get_a_language_and_readable_contrast():
    page = accessible.accessible_page("<!DOCTYPE html>\n<html>\n<head><title>t</title></head><body></body></html>")
    assert '<html lang="en">' in page and accessible.PAGE_CSS in page
    assert accessible.accessible_page(page) == page, "applied twice, changed once"
    assert accessible.accessible_page('<html lang="fr"><head></head></html>').startswith('<html lang="fr">')


def test_the_page_script_names_slider_handles_and_makes_redraws_live():
    """The script shipped with every figure: what it marks (checked in Chromium by test_browser_a11y.py)."""
    page = accessible.figure_html(attnkit.plot_spotlight([0.2, 0.8], ["a", "b"]).figure)
    for part in (".attnkit-live", "'status'", "aria-live", ".widget-output", ".noUi-handle", "aria-label"):
        assert part in page


# text size ----------------------------------------------------------------------------------------

def _lesson_sized():
    """Drawing functions at the sizes lessons use them, where that is larger than in CASES."""
    from attnkit.transformer.head_patterns import pattern_scores, plot_head_grid, plot_pattern_maps

    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(9), size=(6, 12, 9))  # MiniLM: 6 layers, 12 heads, 9 tokens
    tokens = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]
    return [("plot_head_grid 6 x 12", lambda: plot_head_grid(w, tokens), []),
            ("plot_pattern_maps 6 x 12", lambda: plot_pattern_maps(pattern_scores([w])), [])]


@pytest.mark.parametrize("name, draw, numbers", CASES + _lesson_sized(), ids=[c[0] for c in CASES + _lesson_sized()])
def test_no_text_of_a_drawing_function_is_below_the_floor_on_screen(name, draw, numbers):
    """Every text at least MIN_TEXT_PX (9 px) on screen, the PNG shown in a DISPLAY_WIDTH_PX output area."""
    from attnkit.accessible.textsize import MIN_TEXT_PX, png_width, smallest_text, text_sizes

    drawn = draw()
    figure = drawn if isinstance(drawn, matplotlib.figure.Figure) else drawn.figure
    png = accessible.png_bytes(figure)
    sizes = text_sizes(figure)
    assert sizes, f"{name}: no text found"
    text, px = smallest_text(figure, png)
    assert px >= MIN_TEXT_PX, (f"{name}: {text!r} is {px:.1f} px on screen (PNG {png_width(png)} px wide), "
                               f"under {MIN_TEXT_PX} px")


def test_the_text_size_measure_sees_tick_labels_and_the_display_scale():
    from attnkit.accessible.textsize import png_width, smallest_text, text_sizes

    fig, ax = plt.subplots(figsize=(20, 2), dpi=100)
    ax.plot([0, 1], [0, 1])
    ax.set_xticks([0, 1], ["tiny", "b"], fontsize=5)
    assert ("tiny", pytest.approx(5 * 100 / 72)) in text_sizes(fig)
    png = accessible.png_bytes(fig)
    text, px = smallest_text(fig, png, display_width=1000)
    assert text == "tiny" and px == pytest.approx(5 * 100 / 72 * 1000 / png_width(png))
