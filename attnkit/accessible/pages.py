"""Pages the course writes (feedback pages, reports): WCAG 2.1 AA text contrast and the page's language."""
from __future__ import annotations

import re

__all__ = ["PAGE_CSS", "accessible_page"]

# Pygments' default colours reach 4.5:1 on white but not on the code cells' #f5f5f5 (4.4-4.49:1): the
# ones below it darkened, same hues, to >= 4.7:1 (operator words like `is`/`not`, decorators, string
# escapes and interpolation, attributes, labels, generic output/error/inserted text).
# nbconvert's lab template writes prompts (#b0b0b0 on white: 2.2:1) and code comments (#408080 on
# #f5f5f5: 4.2:1) below WCAG's 4.5:1 for text: darker, same hues (7:1 and 5.8:1)
PAGE_CSS = """<style id="attnkit-contrast">
.jp-InputPrompt, .jp-OutputPrompt, .prompt { color: #595959 !important; opacity: 1 !important; }
.highlight .c, .highlight .c1, .highlight .ch, .highlight .cm, .highlight .cp, .highlight .cpf,
.highlight .cs { color: #306868 !important; }
a { color: #23527c !important; text-decoration: underline !important; }
.panel-primary > .panel-heading a { color: #ffffff !important; }
.highlight .ne { color: #a8322c !important; }
.highlight .ow, .highlight .nd { color: #a320f4 !important; }
.highlight .si, .highlight .sr { color: #9f5773 !important; }
.highlight .se { color: #a45a1e !important; }
.highlight .na { color: #647420 !important; }
.highlight .nl { color: #717100 !important; }
.highlight .go, .highlight .ni { color: #6d6d6d !important; }
.highlight .gr { color: #dd0000 !important; }
.highlight .gi { color: #008000 !important; }
.output_subarea pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
</style>"""


def accessible_page(page: str, lang: str = "en") -> str:
    """An HTML page the course writes (a feedback page, a report), made to pass WCAG 2.1 AA where
    nbconvert's templates do not: text contrast (:data:`PAGE_CSS`) and the page's language."""
    if "attnkit-contrast" not in page:
        page = page.replace("</head>", PAGE_CSS + "\n</head>", 1)
    if re.search(r"<html(?![^>]*\blang=)", page):
        page = re.sub(r"<html(?=[\s>])", f'<html lang="{lang}"', page, count=1)
    return page

