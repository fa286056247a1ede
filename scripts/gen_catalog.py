#!/usr/bin/env python3
"""Generate providers/*.json (the built-in IndoxRouter model catalog).

Source: LiteLLM's price map, `model_prices_and_context_window_backup.json`
from the `litellm` 1.106.12 package (MIT licence), reduced to the entries of
the five supported providers. DALL-E prices are not in that map; they are
OpenAI's published per-image prices and are written in DALL_E below.

Usage:
    python3 scripts/gen_catalog.py [REFERENCE_JSON] [--out DIR]

REFERENCE_JSON defaults to /work/shared/reference/model-prices-subset.json and
DIR to the repository's providers/ directory. The output is deterministic, so
re-running on the same input gives byte-identical files.

Exactness: the JSON is parsed with parse_float=decimal.Decimal, so a price
like 1.5e-07 is the decimal number written in the file, never a binary float.
Every emitted price is asserted to be a whole number of pico-dollars
(10^-12 USD) per token (token prices) or per image (image prices), which is
the unit the Rust cost code uses.

Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

DEFAULT_REFERENCE = "/work/shared/reference/model-prices-subset.json"
PICO = Decimal(10) ** 12
PER_MILLION = Decimal(10) ** 6

# LiteLLM provider -> our provider id.
PROVIDER_OF = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "mistral": "mistral",
}

# LiteLLM key prefixes that name the provider rather than the model.
PROVIDER_PREFIXES = ("gemini/", "cohere/", "mistral/", "openai/", "anthropic/")

PROVIDERS = {
    "openai": {
        "name": "OpenAI",
        "description": "GPT chat and reasoning models, legacy completion models, "
        "text embeddings and image generation through the OpenAI API.",
        "website": "https://openai.com/api/",
    },
    "anthropic": {
        "name": "Anthropic",
        "description": "Claude chat models through the Anthropic Messages API.",
        "website": "https://www.anthropic.com/api",
    },
    "google": {
        "name": "Google Gemini",
        "description": "Gemini and Gemma chat models, Gemini embeddings and "
        "image generation (Gemini image models, Imagen) through the Gemini API.",
        "website": "https://ai.google.dev/gemini-api",
    },
    "cohere": {
        "name": "Cohere",
        "description": "Command chat models and Embed embedding models through "
        "the Cohere API.",
        "website": "https://cohere.com",
    },
    "mistral": {
        "name": "Mistral AI",
        "description": "Mistral, Magistral, Codestral, Devstral and other chat "
        "models, plus embeddings, through the Mistral API.",
        "website": "https://mistral.ai",
    },
}

API_NAME = {
    "openai": "OpenAI API",
    "anthropic": "Anthropic API",
    "google": "Gemini API",
    "cohere": "Cohere API",
    "mistral": "Mistral AI API",
}

MODE_OF = {
    "chat": "chat",
    "completion": "completion",
    "embedding": "embedding",
    "image_generation": "image",
}

# Reasons for leaving out entries whose mode we otherwise keep.
SKIP_IDS = {
    # A code-interpreter session price filed under mode "chat"; not a model.
    ("openai", "container"): "code-interpreter container session price, not a model",
}
# Music generation priced per clip (LiteLLM stores the clip price in
# output_cost_per_image and the token prices as 0); listing them as chat models
# would make them look free.
SKIP_PATTERNS = [(re.compile(r"^lyria-"), "music generation priced per clip")]

# Per-size/quality image price keys: "high/1024-x-1536/gpt-image-1",
# "1024-x-1024/gpt-image-1.5".
IMAGE_PRICE_KEY = re.compile(
    r"^(?:(?P<quality>low|medium|high|standard|hd)/)?(?P<w>\d+)-x-(?P<h>\d+)/(?P<model>.+)$"
)

TIER_KEY = re.compile(
    r"^(?P<field>input_cost_per_token|output_cost_per_token|"
    r"cache_read_input_token_cost|cache_creation_input_token_cost)"
    r"_above_(?P<n>\d+)k_tokens$"
)

# LiteLLM field -> our per-1M pricing field (base tier only).
TOKEN_FIELDS = [
    ("input_cost_per_token", "input"),
    ("output_cost_per_token", "output"),
    ("cache_read_input_token_cost", "cached_input"),
    ("cache_creation_input_token_cost", "cache_creation"),
    ("output_cost_per_reasoning_token", "reasoning"),
    ("input_cost_per_image_token", "image_input"),
    ("output_cost_per_image_token", "image_output"),
    ("input_cost_per_audio_token", "audio_input"),
    ("output_cost_per_audio_token", "audio_output"),
]
TIER_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_creation",
}

# Service-tier prices ("priority", "flex"): OpenAI's and Gemini's
# `service_tier` request option bills every token at the tier's own price.
SERVICE_TIER_KEY = re.compile(
    r"^(?P<field>input_cost_per_token|output_cost_per_token|"
    r"cache_read_input_token_cost|cache_creation_input_token_cost|"
    r"input_cost_per_audio_token)"
    r"(?:_above_(?P<n>\d+)k_tokens)?_(?P<tier>priority|flex)$"
)
SERVICE_TIER_FIELDS = {
    **TIER_FIELDS,
    "input_cost_per_audio_token": "audio_input",
}

QUALITY_ORDER = {None: 0, "low": 1, "standard": 2, "medium": 3, "hd": 4, "high": 5}

OPENAI_PRICING_URL = "https://developers.openai.com/api/docs/pricing"

# OpenAI's published per-image prices (see /work/shared/reference/README.md).
# dall-e-2 has a single quality, so its entries carry no quality.
DALL_E = [
    {
        "id": "dall-e-2",
        "images": [
            (None, "256x256", "0.016"),
            (None, "512x512", "0.018"),
            (None, "1024x1024", "0.020"),
        ],
    },
    {
        "id": "dall-e-3",
        "images": [
            ("standard", "1024x1024", "0.040"),
            ("standard", "1024x1792", "0.080"),
            ("standard", "1792x1024", "0.080"),
            ("hd", "1024x1024", "0.080"),
            ("hd", "1024x1792", "0.120"),
            ("hd", "1792x1024", "0.120"),
        ],
    },
]


def dec(value: object, what: str) -> Decimal:
    """A JSON number (already Decimal or int) as an exact Decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise SystemExit(f"{what}: expected a number, got {value!r}")
    d = Decimal(value)
    if d < 0:
        raise SystemExit(f"{what}: negative price {d}")
    return d


def plain(d: Decimal) -> str:
    """Minimal plain decimal string: no exponent, no trailing zeros."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def per_million(value: object, what: str) -> str:
    """USD per token -> decimal string in USD per 1M tokens, checked exact."""
    d = dec(value, what)
    pico = d * PICO
    assert pico == pico.to_integral_value(), f"{what}: {d} USD/token is not whole pico-dollars"
    return plain(d * PER_MILLION)


def per_image(value: object, what: str) -> str:
    d = dec(value, what)
    pico = d * PICO
    assert pico == pico.to_integral_value(), f"{what}: {d} USD/image is not whole pico-dollars"
    return plain(d)


# ---------------------------------------------------------------- display names

UPPER = {
    "gpt": "GPT",
    "it": "IT",
    "tts": "TTS",
    "glm": "GLM",
    "cli": "CLI",
    "fim": "FIM",
    "er": "ER",
    "c4ai": "C4AI",
    "api": "API",
}
LOWER = {"mini", "nano"}  # OpenAI writes "GPT-4o mini", "GPT-5 nano"
SPECIAL = {"zai": "Z.ai", "chatgpt": "ChatGPT", "4o": "4o", "learnlm": "LearnLM"}


def word(tok: str, after_gpt: bool) -> str:
    if tok in SPECIAL:
        return SPECIAL[tok]
    if tok in UPPER:
        return UPPER[tok]
    if tok in LOWER and after_gpt:
        return tok
    if re.fullmatch(r"v\d+(\.\d+)*", tok):  # v3.0
        return tok
    if re.fullmatch(r"\d+(\.\d+)?[kbm]", tok):  # 16k, 27b
        return tok.upper()
    if re.fullmatch(r"[a-z]\d+[a-z]?", tok) and not re.fullmatch(r"o\d", tok):  # a4b, r7b
        return tok.upper()
    return tok[:1].upper() + tok[1:]


def display_name(model_id: str) -> str:
    if model_id.startswith("dall-e-"):
        return "DALL·E " + model_id.removeprefix("dall-e-")
    toks = model_id.split("-")
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        rest = toks[i:]
        # Dates become a parenthesised suffix.
        if len(rest) >= 3 and re.fullmatch(r"\d{4}", rest[0]) and re.fullmatch(r"\d{2}", rest[1]) \
                and re.fullmatch(r"\d{2}", rest[2]):
            out.append(f"({rest[0]}-{rest[1]}-{rest[2]})")
            i += 3
            continue
        if len(rest) >= 2 and re.fullmatch(r"\d{2}", rest[0]) and re.fullmatch(r"20\d{2}", rest[1]):
            out.append(f"({rest[0]}-{rest[1]})")
            i += 2
            continue
        if re.fullmatch(r"20\d{6}", t):
            out.append(f"({t})")
            i += 1
            continue
        # "gpt-4o", "gpt-3.5": OpenAI joins the version with a hyphen.
        if t == "gpt" and i + 1 < len(toks) and re.fullmatch(r"\d[\w.]*", toks[i + 1]):
            out.append(f"GPT-{toks[i + 1]}")
            i += 2
            continue
        # o-series: "o3-mini", "o4-mini".
        if re.fullmatch(r"o\d", t):
            if i + 1 < len(toks) and toks[i + 1] == "mini":
                out.append(f"{t}-mini")
                i += 2
            else:
                out.append(t)
                i += 1
            continue
        # Runs of single digits are a version: claude-sonnet-4-5 -> 4.5.
        if re.fullmatch(r"\d", t):
            j = i
            while j < len(toks) and re.fullmatch(r"\d", toks[j]):
                j += 1
            out.append(".".join(toks[i:j]))
            i = j
            continue
        if t == "r" and i + 1 < len(toks) and toks[i + 1] == "plus":  # Cohere's "Command R+"
            out.append("R+")
            i += 2
            continue
        out.append(word(t, bool(out) and out[0].startswith("GPT")))
        i += 1
    return " ".join(out)


def describe(provider: str, modes: list[str], caps: dict, model: dict, entry: dict) -> str:
    api = API_NAME[provider]
    kind = {
        "chat": "Chat model",
        "completion": "Text completion model",
        "embedding": "Embedding model",
        "image": "Image generation model",
    }[modes[0]]
    text = f"{kind} on the {api}"
    if modes[0] == "chat":
        notes = []
        if caps["tools"]:
            notes.append("tool calling")
        if caps["vision"]:
            notes.append("image input")
        if caps["json"]:
            notes.append("structured output")
        if caps["reasoning"]:
            notes.append("reasoning")
        if caps["prompt_caching"]:
            notes.append("prompt caching")
        if entry.get("supports_audio_input"):
            notes.append("audio input")
        if entry.get("supports_audio_output"):
            notes.append("audio output")
        if notes:
            text += " with " + (", ".join(notes[:-1]) + " and " + notes[-1] if len(notes) > 1 else notes[0])
    elif modes[0] == "embedding" and model.get("output_vector_size"):
        text += f" ({model['output_vector_size']}-dimensional vectors)"
    elif modes[0] == "image":
        p = model.get("pricing", {})
        if p.get("image_output") and p.get("images"):
            text += ", priced per image token and per image"
        elif p.get("image_output"):
            text += ", priced per image token"
        elif p.get("images"):
            text += ", priced per image"
    return text + "."


# ---------------------------------------------------------------- conversion


def strip_prefix(key: str) -> str:
    for pre in PROVIDER_PREFIXES:
        if key.startswith(pre):
            return key[len(pre):]
    return key


def convert(key: str, entry: dict, provider: str, model_id: str) -> dict:
    mode = MODE_OF[entry["mode"]]
    modes = [mode]
    is_text = mode in ("chat", "completion")
    caps = {
        "tools": bool(entry.get("supports_function_calling", False)),
        "vision": bool(
            entry.get("supports_vision", False)
            or entry.get("supports_image_input", False)
            or entry.get("supports_embedding_image_input", False)
        ),
        "json": bool(entry.get("supports_response_schema", False)),
        # LiteLLM only marks streaming where it is native; every chat and
        # completion endpoint of these providers streams.
        "streaming": bool(entry.get("supports_native_streaming", is_text)),
        "reasoning": bool(entry.get("supports_reasoning", False)),
        "prompt_caching": bool(entry.get("supports_prompt_caching", False)),
    }
    pricing: dict = {}
    for src, dst in TOKEN_FIELDS:
        if src in entry:
            pricing[dst] = per_million(entry[src], f"{key}.{src}")
    tiers: dict[int, dict] = {}
    for k, v in entry.items():
        m = TIER_KEY.match(k)
        if m:
            n = int(m["n"]) * 1000
            tiers.setdefault(n, {})[TIER_FIELDS[m["field"]]] = per_million(v, f"{key}.{k}")
    if tiers:
        order = list(TIER_FIELDS.values())
        pricing["tiers"] = [
            {"above_tokens": n, **{f: tiers[n][f] for f in order if f in tiers[n]}}
            for n in sorted(tiers)
        ]
    service = service_tiers(key, entry)
    if service:
        pricing["service_tiers"] = service
    if "output_cost_per_image" in entry:
        pricing["images"] = [
            {"quality": None, "size": None,
             "price": per_image(entry["output_cost_per_image"], f"{key}.output_cost_per_image")}
        ]
    model: dict = {"id": model_id, "name": display_name(model_id)}
    model["modes"] = modes
    model["capabilities"] = caps
    for src, dst in (
        ("max_input_tokens", "context_window"),
        ("max_output_tokens", "max_output_tokens"),
        ("output_vector_size", "output_vector_size"),
    ):
        if src in entry:
            model[dst] = int(entry[src])
    model["pricing"] = pricing
    if "deprecation_date" in entry:
        model["deprecation_date"] = entry["deprecation_date"]
    if "source" in entry:
        model["source"] = entry["source"]
    return model


def service_tiers(key: str, entry: dict) -> dict:
    """`{"priority": {...}, "flex": {...}}` from the map's `*_priority` and
    `*_flex` fields. A tier without both an input and an output price cannot
    bound a request's cost, so it is left out (and requests for it are
    refused rather than billed at the standard price)."""
    base: dict[str, dict] = {}
    above: dict[str, dict[int, dict]] = {}
    for k, v in entry.items():
        m = SERVICE_TIER_KEY.match(k)
        if not m:
            continue
        field = SERVICE_TIER_FIELDS[m["field"]]
        price = per_million(v, f"{key}.{k}")
        if m["n"]:
            above.setdefault(m["tier"], {}).setdefault(int(m["n"]) * 1000, {})[field] = price
        else:
            base.setdefault(m["tier"], {})[field] = price
    order = ["input", "output", "cached_input", "cache_creation", "audio_input"]
    out: dict = {}
    for tier in sorted(base):
        prices = base[tier]
        if "input" not in prices or "output" not in prices:
            continue
        doc = {f: prices[f] for f in order if f in prices}
        if tier in above:
            doc["tiers"] = [
                {"above_tokens": n, **{f: above[tier][n][f] for f in order if f in above[tier][n]}}
                for n in sorted(above[tier])
            ]
        out[tier] = doc
    return out


def generate(reference: Path) -> tuple[dict[str, list[dict]], list[str]]:
    with reference.open(encoding="utf-8") as f:
        data = json.load(f, parse_float=Decimal)
    notes: list[str] = []
    models: dict[tuple[str, str], tuple[str, dict, dict]] = {}
    image_tables: dict[tuple[str, str], list[tuple[str | None, str, str, str]]] = {}

    for key in sorted(data):
        entry = data[key]
        if not isinstance(entry, dict):
            continue
        lp = entry.get("litellm_provider")
        provider = PROVIDER_OF.get(lp)
        if provider is None:
            notes.append(f"skip {key}: provider {lp!r} not supported")
            continue
        if entry.get("mode") not in MODE_OF:
            continue  # rerank, ocr, audio, realtime, video, moderation, responses
        if key.startswith("ft:"):
            continue
        m = IMAGE_PRICE_KEY.match(key)
        if m:
            size = f"{m['w']}x{m['h']}"
            price = entry.get("output_cost_per_image", entry.get("input_cost_per_image"))
            if price is None:
                raise SystemExit(f"{key}: per-size image entry without a per-image price")
            image_tables.setdefault((provider, m["model"]), []).append(
                (m["quality"], size, per_image(price, key), key)
            )
            continue
        model_id = strip_prefix(key)
        if (provider, model_id) in SKIP_IDS:
            notes.append(f"skip {key}: {SKIP_IDS[(provider, model_id)]}")
            continue
        skip = next((why for pat, why in SKIP_PATTERNS if pat.search(model_id)), None)
        if skip:
            notes.append(f"skip {key}: {skip}")
            continue
        prefixed = key != model_id
        prev = models.get((provider, model_id))
        if prev is not None:
            # Bare and "gemini/"-prefixed duplicates: the prefixed entry is
            # LiteLLM's canonical Gemini-API entry, so it wins.
            prev_key = prev[0]
            if prefixed and prev_key == model_id:
                notes.append(f"duplicate {model_id}: kept {key}, dropped {prev_key}")
            else:
                notes.append(f"duplicate {model_id}: kept {prev_key}, dropped {key}")
                continue
        models[(provider, model_id)] = (key, convert(key, entry, provider, model_id), entry)

    for (provider, base), rows in sorted(image_tables.items()):
        if (provider, base) not in models:
            raise SystemExit(f"per-image prices for unknown model {provider}/{base}")
        pricing = models[(provider, base)][1]["pricing"]
        seen: dict[tuple[str | None, str], str] = {}
        for quality, size, price, key in rows:
            if (quality, size) in seen and seen[(quality, size)] != price:
                raise SystemExit(f"{key}: conflicting price for {quality}/{size}")
            seen[(quality, size)] = price
        images = pricing.setdefault("images", [])
        images.extend({"quality": q, "size": s, "price": p} for (q, s), p in seen.items())

    for spec in DALL_E:
        images = [
            {"quality": q, "size": s, "price": per_image(Decimal(p), spec["id"])}
            for q, s, p in spec["images"]
        ]
        models[("openai", spec["id"])] = (
            spec["id"],
            {
                "id": spec["id"],
                "name": display_name(spec["id"]),
                "modes": ["image"],
                "capabilities": {
                    "tools": False, "vision": False, "json": False,
                    "streaming": False, "reasoning": False, "prompt_caching": False,
                },
                "pricing": {"images": images},
                "source": OPENAI_PRICING_URL,
            },
            {},
        )

    out: dict[str, list[dict]] = {p: [] for p in PROVIDERS}
    for (provider, _), (_, model, entry) in sorted(models.items()):
        pricing = model["pricing"]
        if "images" in pricing:
            pricing["images"].sort(
                key=lambda e: (QUALITY_ORDER[e["quality"]], e["size"] is not None,
                               tuple(int(x) for x in (e["size"] or "0x0").split("x")))
            )
        # Key order in the file: the schema's order, pricing last but one.
        ordered = {
            "id": model["id"],
            "name": model["name"],
            "description": describe(provider, model["modes"], model["capabilities"], model, entry),
        }
        for k in ("modes", "capabilities", "context_window", "max_output_tokens",
                  "output_vector_size", "pricing", "deprecation_date", "source"):
            if k in model:
                ordered[k] = model[k]
        out[provider].append(ordered)
    return out, notes


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference", nargs="?", default=DEFAULT_REFERENCE,
                    help=f"LiteLLM price map (default {DEFAULT_REFERENCE})")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "providers"),
                    help="output directory (default: <repo>/providers)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print skipped entries")
    args = ap.parse_args(argv)

    out, notes = generate(Path(args.reference))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for provider, models in out.items():
        doc = {"provider": provider, **PROVIDERS[provider], "models": models}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        (out_dir / f"{provider}.json").write_text(text, encoding="utf-8")
        print(f"{provider}: {len(models)} models")
    if args.verbose:
        for n in notes:
            print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
