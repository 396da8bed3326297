"""Tiny real models for fastembed, built on the fly (this machine cannot download any).

``build_text_model(dir, dim)`` writes a Hugging Face style model folder: a WordLevel
``tokenizer.json`` (lowercase, whitespace split, ``[PAD] [UNK] [CLS] [SEP]`` + a small vocabulary),
``tokenizer_config.json``, ``special_tokens_map.json``, ``config.json`` and ``onnx/model.onnx`` -
an ONNX graph ``input_ids, attention_mask -> last_hidden_state`` that looks each token up in a
fixed random embedding table (Gather). fastembed runs it like a BERT: tokenize, run the session,
pool, normalize.

``populate_hf_cache(cache_dir, repo, src)`` lays such a folder out as the Hugging Face hub cache
does (``models--org--name/refs/main`` + ``snapshots/<sha>/``), so fastembed's own offline path
(``HF_HUB_OFFLINE=1``, ``local_files_only``) finds it exactly as it finds a downloaded model.

``build_bm25_files(dir)`` writes the stopword list the real ``Qdrant/bm25`` model loads.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

WORDS = (
    "the a of and to in is it cat cats dog dogs bird fish pet pets animal animals car cars truck "
    "road engine wheel drive fast slow red blue green apple banana fruit eat food sweet sour "
    "ocean sea water swim boat ship river rain cloud sky sun moon star night day space rocket "
    "planet code python rust program computer vector database search query document image"
).split()

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary(extra_tokens: tuple[str, ...] = ()) -> dict[str, int]:
    tokens = SPECIALS + list(extra_tokens) + WORDS
    return {t: i for i, t in enumerate(tokens)}


def _tokenizer_json(vocab: dict[str, int], out: Path) -> None:
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel

    tok = Tokenizer(WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.save(str(out))


def _onnx_gather(table: np.ndarray, out: Path, output_name: str = "last_hidden_state") -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dim = table.shape[1]
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Gather", ["table", "input_ids"], ["gathered"], axis=0),
            # use attention_mask so it is a real input of the graph (padding rows become 0)
            helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_f", "axes"], ["mask3"]),
            helper.make_node("Mul", ["gathered", "mask3"], [output_name]),
        ],
        name="tiny",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=[helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", "seq", dim])],
        initializer=[
            numpy_helper.from_array(table.astype(np.float32), "table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))


def build_text_model(
    directory: str | Path,
    dim: int = 8,
    seed: int = 0,
    extra_tokens: tuple[str, ...] = (),
    model_file: str = "onnx/model.onnx",
    output_name: str = "last_hidden_state",
) -> Path:
    """A BERT-shaped tiny text model folder; returns it. Same seed, same weights."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary(extra_tokens)
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(len(vocab), dim)).astype(np.float32)
    # Words of one topic share a direction, so a query finds the documents of its topic.
    topics = [
        "cat cats dog dogs bird fish pet pets animal animals",
        "car cars truck road engine wheel drive fast slow",
        "apple banana fruit eat food sweet sour",
        "ocean sea water swim boat ship river rain",
        "sky sun moon star night day space rocket planet",
    ]
    for k, topic in enumerate(topics):
        axis = np.zeros(dim, dtype=np.float32)
        axis[k % dim] = 6.0
        for w in topic.split():
            table[vocab[w]] += axis
    for special in ("[PAD]", "[CLS]", "[SEP]", "the", "a", "of", "and", "to", "in", "is", "it"):
        table[vocab[special]] *= 0.05
    _tokenizer_json(vocab, d / "tokenizer.json")
    (d / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 512, "pad_token": "[PAD]", "do_lower_case": True})
    )
    (d / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "pad_token": "[PAD]",
                "unk_token": "[UNK]",
                "cls_token": "[CLS]",
                "sep_token": "[SEP]",
                "mask_token": "[MASK]",
            }
        )
    )
    (d / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": dim, "pad_token_id": 0}))
    _onnx_gather(table, d / model_file, output_name)
    return d


def build_bm25_files(directory: str | Path) -> Path:
    """What ``Qdrant/bm25`` loads from its repo: one stopword list per language."""
    from fastembed.sparse.bm25 import supported_languages

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text("{}")
    for lang in supported_languages:
        (d / f"{lang}.txt").write_text("")
    (d / "english.txt").write_text("\n".join(["the", "a", "of", "and", "to", "in", "is", "it"]) + "\n")
    return d


def populate_hf_cache(cache_dir: str | Path, repo: str, src: str | Path, revision: str = "0" * 40) -> Path:
    """Copy ``src`` into the hub cache layout of ``repo`` under ``cache_dir``; returns the snapshot."""
    root = Path(cache_dir) / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / revision
    if snapshot.exists():
        shutil.rmtree(snapshot)
    shutil.copytree(src, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(revision)
    return snapshot


def build_image_model(directory: str | Path, dim: int = 512, size: int = 32, seed: int = 0) -> Path:
    """A CLIP-shaped tiny image model folder: ``pixel_values -> image_embeds``.

    The graph averages each colour channel over the image and projects the 3 means to ``dim``
    with a fixed random matrix, so images of different colours get different directions.
    ``preprocessor_config.json`` is a CLIP image processor's (resize, crop, rescale, normalize).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    proj = rng.normal(size=(3, dim)).astype(np.float32)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("ReduceMean", ["pixel_values"], ["means"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["means", "proj"], ["image_embeds"]),
        ],
        name="tiny_image",
        inputs=[helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, size, size])],
        outputs=[helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", dim])],
        initializer=[numpy_helper.from_array(proj, "proj")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(d / "model.onnx"))
    (d / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "crop_size": {"height": size, "width": size},
                "do_center_crop": True,
                "do_convert_rgb": True,
                "do_normalize": True,
                "do_rescale": True,
                "do_resize": True,
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711],
                "image_processor_type": "CLIPImageProcessor",
                "resample": 3,
                "rescale_factor": 0.00392156862745098,
                "size": {"shortest_edge": size},
            }
        )
    )
    (d / "config.json").write_text(json.dumps({"model_type": "clip_vision_model"}))
    return d


# ---- the set of models the inference tests use --------------------------------------------------

DENSE = "aqdrant-test/tiny-dense"  # a custom model, registered with TextEmbedding.add_custom_model
DENSE_DIM = 8
BM25 = "Qdrant/bm25"  # fastembed's real BM25 (pure Python), with its stopword files
SPLADE = "prithivida/Splade_PP_en_v1"  # fastembed's SPLADE class on a tiny graph
COLBERT = "colbert-ir/colbertv2.0"  # fastembed's ColBERT class on a tiny graph
COLBERT_DIM = 128
CLIP = "Qdrant/clip-ViT-B-32-vision"  # fastembed's image class on a tiny graph
CLIP_DIM = 512


def install_models(cache_dir: str | Path) -> Path:
    """Build every test model into a Hugging Face cache at ``cache_dir`` (under the repos the
    real models come from) and register the custom dense model with fastembed.

    Use with ``FASTEMBED_CACHE_PATH=cache_dir`` and ``HF_HUB_OFFLINE=1``: fastembed then loads
    them through its normal offline path, by their usual names.
    """
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    cache = Path(cache_dir)
    src = cache.parent / (cache.name + "-src")
    populate_hf_cache(cache, DENSE, build_text_model(src / "dense", dim=DENSE_DIM))
    populate_hf_cache(cache, "Qdrant/bm25", build_bm25_files(src / "bm25"))
    populate_hf_cache(
        cache,
        "Qdrant/Splade_PP_en_v1",
        build_text_model(
            src / "splade", dim=len(vocabulary()), seed=1, model_file="model.onnx", output_name="output"
        ),
    )
    populate_hf_cache(
        cache, COLBERT, build_text_model(src / "colbert", dim=COLBERT_DIM, seed=2, model_file="model.onnx")
    )
    populate_hf_cache(cache, CLIP, build_image_model(src / "clip", dim=CLIP_DIM))
    if not any(m["model"] == DENSE for m in TextEmbedding.list_supported_models()):
        TextEmbedding.add_custom_model(
            DENSE,
            pooling=PoolingType.MEAN,
            normalization=True,
            sources=ModelSource(hf=DENSE),
            dim=DENSE_DIM,
        )
    return cache


TEXTS = [
    "the cat and the dog are pets",
    "a fast car on the road",
    "apple and banana are sweet fruit",
    "a boat on the ocean water",
    "the moon and a star in the night sky",
    "dogs and cats are animals",
]


@contextlib.contextmanager
def offline_models(cache_dir: Path) -> Iterator[Path]:
    """The tiny models installed in ``cache_dir``, with fastembed pointed at it and offline."""
    saved = {k: os.environ.get(k) for k in ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE")}
    os.environ["FASTEMBED_CACHE_PATH"] = str(cache_dir)
    os.environ["HF_HUB_OFFLINE"] = "1"
    install_models(cache_dir)
    try:
        yield cache_dir
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
