"""TF Serving's warm-up requests: protobuf's own parser reads them as PredictionLogs."""

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from tensorflow.core.framework.tensor_pb2 import TensorProto

from skiprec_tf.errors import DataError
from skiprec_tf.serving.warmup import (
    prediction_log,
    read_warmup_requests,
    warmup_requests,
    write_warmup_requests,
)

_STRING, _BYTES, _MESSAGE = (
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
)


@pytest.fixture(scope="module")
def prediction_log_class():
    """tensorflow_serving/apis' PredictionLog with the fields the warm-up uses, TensorProto
    values kept as bytes (the same wire format as the embedded message)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="serving_apis.proto", package="ts", syntax="proto3"
    )

    def message(name, fields, parent=None):
        proto = (parent.nested_type if parent else file.message_type).add(name=name)
        for field_name, number, kind, type_name, repeated in fields:
            field = proto.field.add(name=field_name, number=number, type=kind)
            field.label = field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL
            if type_name:
                field.type_name = type_name
        return proto

    message(
        "ModelSpec", [("name", 1, _STRING, "", False), ("signature_name", 3, _STRING, "", False)]
    )
    request = message("PredictRequest", [
        ("model_spec", 1, _MESSAGE, ".ts.ModelSpec", False),
        ("inputs", 2, _MESSAGE, ".ts.PredictRequest.InputsEntry", True),
    ])  # fmt: skip
    entry = message(
        "InputsEntry", [("key", 1, _STRING, "", False), ("value", 2, _BYTES, "", False)], request
    )
    entry.options.map_entry = True
    message("PredictLog", [("request", 1, _MESSAGE, ".ts.PredictRequest", False)])
    message("PredictionLog", [("predict_log", 6, _MESSAGE, ".ts.PredictLog", False)])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("ts.PredictionLog"))


def test_a_prediction_log_parses_with_protobuf(prediction_log_class):
    history = np.arange(1000, 1100, dtype=np.int64)[None]  # a TensorProto longer than 127 bytes
    log = prediction_log_class.FromString(
        prediction_log("ml_skiprec", "recommend_k", {"item_ids": history, "k": np.int32(5)})
    )
    request = log.predict_log.request
    assert request.model_spec.name == "ml_skiprec"
    assert request.model_spec.signature_name == "recommend_k"
    item_ids = TensorProto.FromString(request.inputs["item_ids"])
    assert item_ids.dtype == 9 and [d.size for d in item_ids.tensor_shape.dim] == [1, 100]  # int64
    k = TensorProto.FromString(request.inputs["k"])
    assert k.dtype == 3 and not k.tensor_shape.dim and list(k.int_val) == [5]  # int32 scalar


def test_warmup_requests_cover_every_signature_and_plan_and_read_back(tmp_path):
    raw_ids = np.array([0, 31, 7, 1000000])  # V = 3 < the served length: ids repeat
    requests = list(warmup_requests(raw_ids, input_length=5, top_k=4, num_blocks=6))
    signatures = ("serving_default", "recommend_k", "recommend_budget")
    assert {(name, len(inputs["item_ids"])) for name, inputs in requests} == {
        (name, batch) for name in signatures for batch in (1, 2)
    }
    caps = [inputs["max_blocks"] for name, inputs in requests if name == "recommend_budget"]
    assert caps[0].shape == () and caps[0] == 3, "batch 1: one cap for the request"
    np.testing.assert_array_equal(caps[1], [6, 3])  # batch 2: one cap per row
    write_warmup_requests(str(tmp_path), "m", requests)
    read = list(read_warmup_requests(str(tmp_path)))
    assert [name for name, _ in read] == [name for name, _ in requests]
    for (_, inputs), (_, expected) in zip(read, requests):
        assert inputs.keys() == expected.keys()
        for key, value in inputs.items():
            np.testing.assert_array_equal(value, expected[key])
            assert value.dtype == expected[key].dtype
    np.testing.assert_array_equal(read[0][1]["item_ids"], [[31, 7, 1000000, 31, 7]])


def test_a_record_that_is_not_a_prediction_log_names_the_file_and_record(tmp_path):
    path = tmp_path / "assets.extra" / "tf_serving_warmup_requests"
    path.parent.mkdir()
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(
            prediction_log("m", "serving_default", {"item_ids": np.ones([1, 3], np.int64)})
        )
        writer.write(b"\x08\x01")  # field 1 as a varint
    with pytest.raises(
        DataError, match=r"tf_serving_warmup_requests: record 1 is not a PredictLog"
    ):
        list(read_warmup_requests(str(tmp_path)))
