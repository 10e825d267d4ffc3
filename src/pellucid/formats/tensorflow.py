"""TensorFlow SavedModel, frozen GraphDef and ``keras_metadata.pb`` walked with the wire-format
reader: op names and node names, never tensor contents, and no TensorFlow import.

Field numbers (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto, graph.proto,
node_def.proto, function.proto, saved_object_graph.proto; keras saved_metadata.proto):
SavedModel.meta_graphs=2; MetaGraphDef.graph_def=2, object_graph_def=7; GraphDef.node=1,
library=2; NodeDef.name=1, op=2, attr=5; FunctionDefLibrary.function=1; FunctionDef.signature=1
(OpDef.name=1), node_def=3; SavedObjectGraph.nodes=1; SavedObject.user_object=4;
SavedUserObject.metadata=3; SavedMetadata.nodes=1 -> node_path=3, metadata=5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice

from pellucid.formats.protobuf import LEN, VARINT, Field, ProtobufError, fields

MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class GraphNode:
    name: str
    op: str
    offset: int  # of the NodeDef message
    function: str = ""  # library function holding the node; "" for the main graph
    output_stream: str = ""  # PrintV2's destination ("file://..." writes a file)


@dataclass(slots=True)
class GraphContents:
    """Nodes, library functions and embedded Keras JSON found in one TF protobuf."""

    nodes: list[GraphNode] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    json_strings: list[tuple[str, int, int]] = field(default_factory=list)  # label, at, length
    json_texts: list[tuple[str, bytes]] = field(default_factory=list)  # label, decoded JSON
    problems: list[str] = field(default_factory=list)
    truncated: bool = False


class _Reader:
    """Shared state of one walk: the buffer, the node budget and what was found."""

    def __init__(self, buf: memoryview | bytes, max_nodes: int) -> None:
        self.buf = buf
        self.max_nodes = max_nodes
        self.out = GraphContents()

    def text(self, f: Field) -> str:
        return bytes(self.buf[f.value : f.value + min(f.length, MAX_NAME)]).decode(
            "utf-8", "replace"
        )

    def each(self, start: int, end: int, where: str) -> list[Field]:
        """The fields of one message; a malformed tail is recorded, what parsed is kept."""
        found: list[Field] = []
        try:
            found.extend(fields(self.buf, start, end))
        except ProtobufError as exc:
            if len(self.out.problems) < 20:
                self.out.problems.append(f"{where}: {exc}")
        return found


def is_keras_metadata(buf: memoryview | bytes) -> bool:
    """``keras_metadata.pb`` looks like a GraphDef at the top level (repeated field 1), but its
    nodes have no field 1 (reserved) and carry node_path / metadata strings in 3 and 5, where
    a NodeDef has its name in 1 and its op in 2."""
    tops = fields_or_empty(buf, 0, len(buf), limit=3)
    if not tops or any(t.number != 1 or t.wire_type != LEN for t in tops):
        return False
    inner = fields_or_empty(buf, tops[0].value, tops[0].value + tops[0].length)
    numbers = {(f.number, f.wire_type) for f in inner}
    return (
        (1, LEN) not in numbers
        and (2, LEN) not in numbers
        and bool(numbers & {(2, VARINT), (3, LEN), (5, LEN)})
    )


def fields_or_empty(
    buf: memoryview | bytes, start: int, end: int, limit: int | None = None
) -> list[Field]:
    """Up to ``limit`` fields of a message, or [] when they do not parse."""
    try:
        return list(islice(fields(buf, start, end), limit))
    except ProtobufError:
        return []


def read_saved_model(buf: memoryview | bytes, max_nodes: int) -> GraphContents:
    reader = _Reader(buf, max_nodes)
    for meta in reader.each(0, len(buf), "SavedModel"):
        if meta.number == 2 and meta.wire_type == LEN:
            _meta_graph(reader, meta.value, meta.value + meta.length)
    return reader.out


def read_graph_def(buf: memoryview | bytes, max_nodes: int) -> GraphContents:
    reader = _Reader(buf, max_nodes)
    _graph(reader, 0, len(buf))
    return reader.out


def read_keras_metadata(buf: memoryview | bytes, max_nodes: int) -> GraphContents:
    reader = _Reader(buf, max_nodes)
    for node in reader.each(0, len(buf), "SavedMetadata"):
        if node.number == 1 and node.wire_type == LEN:
            _metadata_node(reader, node, "node_path", path_field=3, json_field=5)
    return reader.out


def _meta_graph(reader: _Reader, start: int, end: int) -> None:
    for f in reader.each(start, end, "MetaGraphDef"):
        if f.wire_type != LEN:
            continue
        if f.number == 2:
            _graph(reader, f.value, f.value + f.length)
        elif f.number == 7:
            for node in reader.each(f.value, f.value + f.length, "SavedObjectGraph"):
                if node.number == 1 and node.wire_type == LEN:
                    _saved_object(reader, node)


def _saved_object(reader: _Reader, node: Field) -> None:
    for f in reader.each(node.value, node.value + node.length, "SavedObject"):
        if f.number == 4 and f.wire_type == LEN:  # user_object: Keras layers live here
            _metadata_node(reader, f, "identifier", path_field=1, json_field=3)


def _metadata_node(
    reader: _Reader, msg: Field, label: str, path_field: int, json_field: int
) -> None:
    name = ""
    for f in reader.each(msg.value, msg.value + msg.length, label):
        if f.wire_type != LEN:
            continue
        if f.number == path_field:
            name = reader.text(f)
        elif f.number == json_field and _starts_json_object(reader.buf, f):
            reader.out.json_strings.append((name or f"object@{msg.start}", f.value, f.length))


def _starts_json_object(buf: memoryview | bytes, f: Field) -> bool:
    """json.loads (Keras' reader) skips leading whitespace, so the object may start later."""
    head = bytes(buf[f.value : f.value + min(f.length, 4096)])
    return head.lstrip(b" \t\r\n")[:1] == b"{"


def _graph(reader: _Reader, start: int, end: int) -> None:
    for f in reader.each(start, end, "GraphDef"):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            _node(reader, f, "")
        elif f.number == 2:
            for fn in reader.each(f.value, f.value + f.length, "FunctionDefLibrary"):
                if fn.number == 1 and fn.wire_type == LEN:
                    _function(reader, fn)


def _function(reader: _Reader, fn: Field) -> None:
    parts = reader.each(fn.value, fn.value + fn.length, "FunctionDef")
    name = ""
    for f in parts:
        if f.number == 1 and f.wire_type == LEN:  # signature: OpDef, its name is field 1
            for g in reader.each(f.value, f.value + f.length, "OpDef"):
                if g.number == 1 and g.wire_type == LEN:
                    name = reader.text(g)
    reader.out.functions.add(name)
    for f in parts:
        if f.number == 3 and f.wire_type == LEN:
            _node(reader, f, name or "?")


def _node(reader: _Reader, msg: Field, function: str) -> None:
    if len(reader.out.nodes) >= reader.max_nodes:
        reader.out.truncated = True
        return
    name = op = stream = ""
    for f in reader.each(msg.value, msg.value + msg.length, "NodeDef"):
        if f.wire_type != LEN:
            continue
        if f.number == 1:
            name = reader.text(f)
        elif f.number == 2:
            op = reader.text(f)
        elif f.number == 5:
            stream = stream or _attr_string(reader, f, "output_stream")
    reader.out.nodes.append(GraphNode(name, op, msg.start, function, stream))


def _attr_string(reader: _Reader, entry: Field, key: str) -> str:
    """The ``s`` value of map entry ``key`` (AttrValue.s = field 2), or ""."""
    parts = reader.each(entry.value, entry.value + entry.length, "attr")
    if not any(f.number == 1 and f.wire_type == LEN and reader.text(f) == key for f in parts):
        return ""
    for f in parts:
        if f.number == 2 and f.wire_type == LEN:
            for value in reader.each(f.value, f.value + f.length, "AttrValue"):
                if value.number == 2 and value.wire_type == LEN:
                    return reader.text(value)
    return ""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Ops that open, list or write files (or memory-map them) when the graph runs.
FILE_OPS = _names("""
    ReadFile WriteFile MatchingFiles ImmutableConst WholeFileReader WholeFileReaderV2
    TextLineReader TextLineReaderV2 TFRecordReader TFRecordReaderV2 FixedLengthRecordReader
    FixedLengthRecordReaderV2 LMDBReader TextLineDataset TFRecordDataset TFRecordDatasetV2
    FixedLengthRecordDataset FixedLengthRecordDatasetV2 SqlDataset ExperimentalSqlDataset
    LMDBDataset ExperimentalLMDBDataset CSVDataset CSVDatasetV2 ExperimentalCSVDataset
    SaveDataset SaveDatasetV2 LoadDataset DatasetToTFRecord ExperimentalDatasetToTFRecord
    SnapshotDataset SnapshotDatasetV2 CacheDataset CacheDatasetV2 CreateSummaryFileWriter
    CreateSummaryDbWriter LoadAndRemapMatrix GenerateVocabRemapping
""")
# Ops that call back into Python, which is arbitrary code in the serving process.
PYTHON_OPS = _names("PyFunc PyFuncStateless EagerPyFunc")
PROCESS_WORDS = ("Shell", "Exec", "System", "Popen", "Subprocess", "Command", "Spawn")
# Checkpoint I/O: expected inside the saver sub-graph, suspicious elsewhere.
CHECKPOINT_OPS = _names("Save SaveV2 SaveSlices Restore RestoreV2 RestoreSlice MergeV2Checkpoints")
# A short list of ordinary ops; anything else (and not a library function) needs a custom
# kernel library. Families are matched by prefix below.
STANDARD_OPS = _names("""
    Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Assert
    Assign AssignAdd AssignSub AssignVariableOp Atan Atan2 Atanh AvgPool AvgPool3D BatchMatMul
    BatchMatMulV2 BatchMatMulV3 BatchNormWithGlobalNormalization BiasAdd BiasAddV1 Bitcast
    BroadcastArgs BroadcastGradientArgs BroadcastTo Bucketize Case Cast Ceil CheckNumerics
    CheckNumericsV2 Cholesky ClipByValue Complex ComplexAbs Concat ConcatOffset ConcatV2 Const
    ControlTrigger Conv2D Conv2DBackpropFilter Conv2DBackpropInput Conv3D Conv3DBackpropInputV2
    Conv1D Cos Cosh CropAndResize Cross Cumprod Cumsum DepthToSpace DepthwiseConv2dNative
    Dequantize DestroyResourceOp DeviceIndex Diag DiagPart Digamma Dilation2D DisableCopyOnRead
    Div DivNoNan DynamicPartition DynamicStitch Einsum Elu EluGrad Empty EmptyTensorList
    EnsureShape Enter Equal Erf Erfc Exit Exp ExpandDims Expm1 ExtractImagePatches FFT FFT2D
    FakeQuantWithMinMaxArgs FakeQuantWithMinMaxVars Fill Floor FloorDiv FloorMod
    FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3 Gather GatherNd GatherV2 Greater
    GreaterEqual HashTable HashTableV2 HistogramSummary IFFT IRFFT Identity IdentityN If Imag
    InTopKV2 InitializeTableV2 InvertPermutation IsFinite IsInf IsNan IsVariableInitialized
    L2Loss LRN LeakyRelu LeakyReluGrad Less LessEqual Lgamma LinSpace ListDiff Log Log1p
    LogSoftmax LogicalAnd LogicalNot LogicalOr LookupTableExportV2 LookupTableFindV2
    LookupTableImportV2 LookupTableInsertV2 LookupTableSizeV2 LoopCond MatMul MatrixBandPart
    MatrixDeterminant MatrixDiag MatrixDiagV3 MatrixInverse MatrixSetDiagV3 MatrixSolve
    MatrixTriangularSolve Max MaxPool MaxPool3D MaxPoolGrad MaxPoolV2 MaxPoolWithArgmax Maximum
    Mean Merge Min Minimum MirrorPad Mod Mul MulNoNan Multinomial
    MutableDenseHashTableV2 MutableHashTableV2 Ndtri Neg NextIteration NoOp
    NonMaxSuppressionV3 NonMaxSuppressionV4 NonMaxSuppressionV5 NotEqual OneHot OnesLike Pack Pad
    PadV2 ParallelConcat ParallelDynamicStitch PartitionedCall Placeholder PlaceholderWithDefault
    Pow PreventGradient Print PrintV2 Prod Qr RFFT RandomShuffle RandomStandardNormal
    RandomUniform RandomUniformInt Range Rank ReadVariableOp Real RealDiv Reciprocal Relu Relu6
    Relu6Grad ReluGrad Reshape ResizeBilinear ResizeNearestNeighbor Reverse ReverseSequence
    ReverseV2 RightShift Rint Round Rsqrt RsqrtGrad ScatterNd Select SelectV2 Selu
    Shape ShapeN ShardedFilename Sigmoid SigmoidGrad Sign Sin Sinh Size Slice Snapshot Softmax
    SoftmaxCrossEntropyWithLogits Softplus Softsign SpaceToBatchND SpaceToDepth Split SplitV
    Sqrt SqrtGrad Square SquaredDifference Squeeze StatefulPartitionedCall StaticRegexFullMatch
    StaticRegexReplace StopGradient StridedSlice StridedSliceGrad StringFormat StringJoin
    StringLength StringSplit StringSplitV2 StringToHashBucketFast StringToNumber Sub
    Substr Sum Svd Switch SymbolicGradient Tan Tanh TanhGrad TensorListFromTensor
    TensorListGetItem TensorListReserve TensorListSetItem TensorListStack Tile TopKV2 Transpose
    TruncateDiv TruncateMod TruncatedNormal Unique Unpack UnsortedSegmentMax
    UnsortedSegmentSum VarHandleOp VarIsInitializedOp Variable VariableV2 Where While Xdivy
    Xlog1py Xlogy ZerosLike Zeta _Arg _Retval _Recv _Send _HostRecv _HostSend _ReadVariablesOp
""")
STANDARD_PREFIXES = (
    "Resource",
    "Stateless",
    "Stateful",
    "Tensor",
    "Sparse",
    "Ragged",
    "Quantize",
    "Quantized",
    "Fused",
    "Batch",
    "Segment",
    "Unsorted",
    "Scatter",
    "Apply",
    "Image",
    "Resize",
    "Decode",
    "Encode",
    "Adjust",
    "Random",
    "Optional",
    "Iterator",
    "Dataset",
    "Map",
    "Parallel",
    "Prefetch",
    "Shuffle",
    "Repeat",
    "Take",
    "Skip",
    "Zip",
    "Filter",
    "Flat",
    "Model",
    "Lookup",
    "Initialize",
    "Matrix",
    "Conv",
    "Depthwise",
    "Max",
    "Min",
    "Avg",
    "Cudnn",
    "Xla",
    "TPU",
    "Collective",
    "Experimental",
    "Regex",
    "String",
    "Unicode",
    "Audio",
    "Summary",
    "Write",
    "Merge",
    "Reduce",
)


def op_family(op: str, output_stream: str = "") -> str:
    """``file``, ``python``, ``process``, ``checkpoint``, ``standard`` or ``custom``."""
    if op in FILE_OPS or (op == "PrintV2" and output_stream.startswith("file://")):
        return "file"
    if op in PYTHON_OPS:
        return "python"
    if op in CHECKPOINT_OPS:
        return "checkpoint"
    if op in STANDARD_OPS or op.startswith(STANDARD_PREFIXES):
        return "standard"
    if any(word in op for word in PROCESS_WORDS):
        return "process"
    return "custom"
