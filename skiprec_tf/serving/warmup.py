"""TF Serving's warm-up requests: replayed when a model version loads, so that the runtime's lazy
set-up (instantiating and optimizing the serving functions, seconds for a 32-block SkipRec) is
paid before the version serves, not by its first clients."""

import os

import numpy as np
import tensorflow as tf
from tensorflow.core.framework.tensor_pb2 import TensorProto

from skiprec_tf.errors import DataError

# Where TF Serving looks for them (docs: tfx/serving/saved_model_warmup): a TFRecord file of
# serialized `tensorflow.serving.PredictionLog`s, at most 1000.
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def warmup_requests(raw_item_ids: np.ndarray, input_length: int, top_k: int, num_blocks: int):
    """`(signature name, inputs)` of every recommending signature at batch 1 and batch 2, which
    take the two plans of `run_retained_blocks`, over histories of known raw ids of the served
    length; `recommend_budget` with a cap for the request (batch 1) and one per row (batch 2)."""
    history = np.resize(np.asarray(raw_item_ids[1:], np.int64), input_length)
    half = np.int32(num_blocks // 2)
    for batch, max_blocks in (
        (history[None], half),
        (np.stack([history, history[::-1]]), np.array([num_blocks, half], np.int32)),
    ):
        yield "serving_default", {"item_ids": batch}
        yield "recommend_k", {"item_ids": batch, "k": np.int32(top_k)}
        yield (
            "recommend_budget",
            {"item_ids": batch, "k": np.int32(top_k), "max_blocks": max_blocks},
        )


def write_warmup_requests(saved_model_dir: str, model_name: str, requests) -> str:
    """Writes `requests` (`warmup_requests`) as `<saved_model_dir>/assets.extra/...`; returns it."""
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            writer.write(prediction_log(model_name, signature_name, inputs))
    return path


def prediction_log(model_name: str, signature_name: str, inputs: dict) -> bytes:
    """A serialized PredictionLog of one PredictRequest, in protobuf's wire format.

    Written by hand, as the `tensorflow-serving-api` package is not a dependency. The field numbers
    are those of tensorflow_serving/apis: PredictionLog.predict_log = 6, PredictLog.request = 1,
    PredictRequest.model_spec = 1 and .inputs = 2 (a map: entry key = 1, value = 2),
    ModelSpec.name = 1 and .signature_name = 3.
    """
    model_spec = _field(1, model_name.encode()) + _field(3, signature_name.encode())
    request = _field(1, model_spec) + b"".join(
        _field(
            2, _field(1, key.encode()) + _field(2, tf.make_tensor_proto(value).SerializeToString())
        )
        for key, value in inputs.items()
    )
    return _field(6, _field(1, request))


def read_warmup_requests(saved_model_dir: str):
    """`(signature name, inputs)` of every PredictionLog that `write_warmup_requests` wrote, for
    replaying them as TF Serving does (`tools/benchmark_load.py`)."""
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    for number, record in enumerate(tf.data.TFRecordDataset(path)):
        try:
            request = _predict_request(record.numpy())
        except (KeyError, IndexError, ValueError) as error:
            raise DataError(f"{path}: record {number} is not a PredictLog ({error!r})") from error
        yield request


def _predict_request(prediction_log: bytes):
    (log,) = _fields(prediction_log)[6]
    (request,) = _fields(log)[1]
    request = _fields(request)
    (signature_name,) = _fields(request[1][0]).get(3, [b"serving_default"])
    inputs = {}
    for entry in request.get(2, []):
        entry = _fields(entry)
        inputs[entry[1][0].decode()] = tf.make_ndarray(TensorProto.FromString(entry[2][0]))
    return signature_name.decode(), inputs


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2): tag, length, payload."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(message: bytes) -> dict:
    """{field number: [payloads]} of a message whose fields are all length-delimited."""
    fields, at = {}, 0
    while at < len(message):
        tag, at = _read_varint(message, at)
        if tag & 7 != 2:
            raise ValueError(f"field {tag >> 3} has wire type {tag & 7}, not length-delimited")
        length, at = _read_varint(message, at)
        fields.setdefault(tag >> 3, []).append(message[at : at + length])
        at += length
    return fields


def _read_varint(data: bytes, at: int):
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at
