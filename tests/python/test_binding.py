"""The binding itself: loading and version checks, the buffer kinds it
accepts (and returns), zero-copy, and every error path."""
import array
import ctypes
import ctypes.util
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy as np
import torch

from reference import prefloss, HERE

F32 = np.float32
PACKAGE_DIR = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "python"))
LIBRARY = os.environ.get("PREFLOSS_LIBRARY") or os.path.normpath(
    os.path.join(HERE, os.pardir, os.pardir, "build", "libprefloss.so.1"))

PC = [-10.0, -20.5, -3.25, -7.0]
PR = [-11.0, -19.0, -4.0, -6.5]
RC = [-10.5, -20.0, -3.0, -7.25]
RR = [-10.0, -19.5, -3.5, -7.0]


def run_python(code, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("PREFLOSS_LIBRARY", None)
    e["PYTHONPATH"] = PACKAGE_DIR
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], env=e, cwd=cwd or tempfile.gettempdir(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120)


class Loading(unittest.TestCase):

    def test_version(self):
        self.assertEqual(prefloss.abi_version(), prefloss.EXPECTED_ABI_VERSION)
        self.assertEqual(prefloss.version(), prefloss.__version__)
        n = prefloss.version_number()
        self.assertEqual(prefloss.version(), "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100))

    def test_status_names_and_messages(self):
        names = {prefloss.OK: "PREFLOSS_OK", prefloss.NONFINITE: "PREFLOSS_NONFINITE",
                 prefloss.ERR_NULL: "PREFLOSS_ERR_NULL", prefloss.ERR_PARAM: "PREFLOSS_ERR_PARAM",
                 prefloss.ERR_OVERLAP: "PREFLOSS_ERR_OVERLAP",
                 prefloss.ERR_SIZE: "PREFLOSS_ERR_SIZE",
                 prefloss.ERR_ROUNDING: "PREFLOSS_ERR_ROUNDING",
                 prefloss.ERR_UNSUPPORTED: "PREFLOSS_ERR_UNSUPPORTED"}
        messages = set()
        for code, name in names.items():
            self.assertEqual(prefloss.status_name(code), name)
            messages.add(prefloss.strerror(code))
        self.assertEqual(len(messages), len(names))
        self.assertIsNone(prefloss.status_name(12345))
        self.assertEqual(prefloss.strerror(12345), "unknown status code")

    def test_import_needs_neither_numpy_nor_torch(self):
        r = run_python("import sys, prefloss\n"
                       "assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n"
                       "print(prefloss.dpo_loss([-1.0], [-2.0], beta=1.0)[0])\n"
                       "assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n"
                       "print(repr(prefloss.torch))\n",
                       env={"PREFLOSS_LIBRARY": LIBRARY})
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("[0.31326", r.stdout)

    def test_standard_library_only(self):
        # -S: no site-packages, so neither numpy nor torch can be imported;
        # lists and array.array('f') still work.
        code = ("import sys, array\nsys.path.insert(0, %r)\nimport prefloss\n"
                "try:\n    import numpy\n    print('numpy importable')\n"
                "except ImportError:\n    pass\n"
                "print(prefloss.dpo_loss([-1.0], [-2.0], beta=1.0)[0])\n"
                "print(prefloss.sequence_logps(array.array('f', [-1, -2, -3, -4]), "
                "bytes([1, 1, 0, 1]), seq_len=2).tolist())\n" % PACKAGE_DIR)
        e = dict(os.environ, PREFLOSS_LIBRARY=LIBRARY)
        e.pop("PYTHONPATH", None)
        r = subprocess.run([sys.executable, "-S", "-c", code], env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("[0.31326", r.stdout)
        self.assertIn("[-3.0, -4.0]", r.stdout)
        self.assertNotIn("numpy importable", r.stdout)

    def test_found_in_build_directory(self):
        # No PREFLOSS_LIBRARY, cwd elsewhere: the source tree's build/ is used.
        r = run_python("import prefloss; print(prefloss.load()._name)")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(os.path.realpath(r.stdout.strip()),
                         os.path.realpath(os.path.join(PACKAGE_DIR, "..", "build",
                                                       "libprefloss.so.1")))

    def test_environment_variable_is_honoured(self):
        r = run_python("import prefloss\ntry:\n    prefloss.version()\n"
                       "except prefloss.Error as e:\n    print('Error:', e)\n",
                       env={"PREFLOSS_LIBRARY": "/nonexistent/libprefloss.so.1"})
        self.assertIn("Error:", r.stdout)
        self.assertIn("/nonexistent/libprefloss.so.1", r.stdout)

    def test_explicit_path_errors(self):
        with self.assertRaises(prefloss.Error):
            prefloss.load("/nonexistent/libprefloss.so.1")
        libc = ctypes.util.find_library("c")
        with self.assertRaisesRegex(prefloss.Error, "not libprefloss"):
            prefloss.load(libc)
        # the library in use is unchanged by failed loads
        self.assertEqual(prefloss.abi_version(), 1)
        self.assertEqual(prefloss.load(LIBRARY).prefloss_abi_version(), 1)

    def test_wrong_abi_is_refused(self):
        # A fake library with every symbol but ABI 2 / version 2.0.0.
        fns = ["prefloss_sequence_logps", "prefloss_sequence_logps_backward",
               "prefloss_rewards", "prefloss_dpo_loss", "prefloss_ipo_loss",
               "prefloss_ipo_general_loss", "prefloss_bt_loss"]
        src = ("const char *prefloss_version(void){return \"2.0.0\";}\n"
               "int prefloss_version_number(void){return 20000;}\n"
               "int prefloss_abi_version(void){return 2;}\n"
               "const char *prefloss_strerror(int s){(void)s;return \"x\";}\n"
               "const char *prefloss_status_name(int s){(void)s;return 0;}\n"
               + "".join("int %s(void){return 0;}\n" % f for f in fns))
        with tempfile.TemporaryDirectory() as d:
            c = os.path.join(d, "fake.c")
            so = os.path.join(d, "libprefloss.so.2")
            with open(c, "w") as f:
                f.write(src)
            cc = os.environ.get("CC", "cc")
            subprocess.run([cc, "-shared", "-fPIC", "-o", so, c], check=True)
            r = run_python("import prefloss\ntry:\n    prefloss.load(%r)\n"
                           "except prefloss.Error as e:\n    print('Error:', e)\n" % so)
        self.assertIn("Error:", r.stdout)
        self.assertIn("needs ABI 1", r.stdout)


class Kinds(unittest.TestCase):

    def expected(self):
        return [np.asarray(o) for o in prefloss.dpo_loss(
            np.array(PC, F32), np.array(PR, F32), np.array(RC, F32), np.array(RR, F32))]

    def test_numpy(self):
        out = prefloss.dpo_loss(*(np.array(x, F32) for x in (PC, PR, RC, RR)))
        for o in out:
            self.assertIsInstance(o, np.ndarray)
            self.assertEqual(o.dtype, F32)
            self.assertEqual(o.shape, (4,))

    def test_torch(self):
        out = prefloss.dpo_loss(*(torch.tensor(x) for x in (PC, PR, RC, RR)))
        for o, e in zip(out, self.expected()):
            self.assertIsInstance(o, torch.Tensor)
            self.assertEqual(o.dtype, torch.float32)
            np.testing.assert_array_equal(o.numpy(), e)

    def test_array(self):
        out = prefloss.dpo_loss(*(array.array("f", x) for x in (PC, PR, RC, RR)))
        for o, e in zip(out, self.expected()):
            self.assertIsInstance(o, array.array)
            self.assertEqual(o.typecode, "f")
            np.testing.assert_array_equal(np.array(o, F32), e)

    def test_list_and_tuple(self):
        for conv in (list, tuple):
            out = prefloss.dpo_loss(*(conv(x) for x in (PC, PR, RC, RR)))
            for o, e in zip(out, self.expected()):
                self.assertIsInstance(o, list)
                self.assertTrue(all(type(v) is float for v in o))
                np.testing.assert_array_equal(np.array(o, F32), e)

    def test_multidimensional_shape_is_kept(self):
        x = [np.array(v, F32).reshape(2, 2) for v in (PC, PR, RC, RR)]
        out = prefloss.dpo_loss(*x)
        self.assertEqual(out[0].shape, (2, 2))
        np.testing.assert_array_equal(out[0].ravel(), self.expected()[0])
        nested = prefloss.dpo_loss(*[a.tolist() for a in x])
        self.assertEqual(np.array(nested[0]).shape, (2, 2))

    def test_no_copy(self):
        # The library reads the caller's memory: views into a larger buffer,
        # a read-only array, a tensor that requires grad, a slice with offset.
        big = np.array(PC + PR, F32)
        pc, pr = big[:4], big[4:]
        pc.flags.writeable = False
        a = prefloss.dpo_loss(pc, pr)[0]
        np.testing.assert_array_equal(a, prefloss.dpo_loss(PC, PR)[0])
        tb = torch.tensor(PC + PR, requires_grad=True)
        t = prefloss.dpo_loss(tb[:4], tb[4:])[0]
        np.testing.assert_array_equal(t.numpy(), a)
        self.assertFalse(t.requires_grad)
        # out= buffers are written in place
        o = np.full(4, np.nan, F32)
        res = prefloss.dpo_loss(pc, pr, out=(o, None, None))
        self.assertIs(res[0], o)
        np.testing.assert_array_equal(o, a)

    def test_torch_from_numpy_shares_memory(self):
        arr = np.array(PC, F32)
        t = torch.from_numpy(arr)
        out = np.full(4, np.nan, F32)
        prefloss.dpo_loss(arr, np.array(PR, F32), out=(out, None, None))
        arr[0] = -100.0  # the tensor sees the same memory: a change shows in its result
        r = prefloss.dpo_loss(t, torch.tensor(PR))[0]
        self.assertNotEqual(float(r[0]), float(out[0]))

    def test_every_function_every_kind(self):
        calls = {
            "ipo_loss": lambda k: prefloss.ipo_loss(k(PC), k(PR), k(RC), k(RR), beta=0.5),
            "ipo_general_loss": lambda k: prefloss.ipo_general_loss(k(PC), k(PR), beta=0.5,
                                                                    alpha1=0.2, alpha2=0.4),
            "bt_loss": lambda k: prefloss.bt_loss(k(PC), k(PR), k(RC), 0.01),
            "rewards": lambda k: prefloss.rewards(k(PC), k(PR), k(RC), k(RR), beta=0.5),
        }
        kinds = {"numpy": lambda x: np.array(x, F32), "torch": lambda x: torch.tensor(x),
                 "array": lambda x: array.array("f", x), "list": list}
        for name, call in calls.items():
            base = [np.asarray(o) for o in call(kinds["numpy"])]
            for kname, k in kinds.items():
                with self.subTest(function=name, kind=kname):
                    out = call(k)
                    for o, b in zip(out, base):
                        np.testing.assert_array_equal(np.array(o, F32), b)

    def test_sequence_logps_kinds(self):
        t = [[-1.0, -2.0, -3.0], [-0.5, -0.25, -4.0]]
        m = [[1, 1, 0], [1, 0, 1]]
        expect = np.array([-3.0, -4.5], F32)
        np.testing.assert_array_equal(
            prefloss.sequence_logps(np.array(t, F32), np.array(m, bool)), expect)
        np.testing.assert_array_equal(
            prefloss.sequence_logps(torch.tensor(t), torch.tensor(m, dtype=torch.bool)).numpy(),
            expect)
        np.testing.assert_array_equal(
            prefloss.sequence_logps(torch.tensor(t), torch.tensor(m, dtype=torch.uint8)).numpy(),
            expect)
        self.assertEqual(prefloss.sequence_logps(t, m), [-3.0, -4.5])
        self.assertEqual(prefloss.sequence_logps(t, [[True, True, False], [True, False, True]]),
                         [-3.0, -4.5])
        flat = array.array("f", [v for row in t for v in row])
        r = prefloss.sequence_logps(flat, bytes([1, 1, 0, 1, 0, 1]), seq_len=3)
        self.assertEqual(list(r), [-3.0, -4.5])
        r = prefloss.sequence_logps(flat, array.array("B", [1, 1, 0, 1, 0, 1]), "mean", seq_len=3)
        self.assertEqual(list(r), [-1.5, -2.25])
        g = prefloss.sequence_logps_backward([1.0, 2.0], m, "sum")
        self.assertEqual(g, [[1.0, 1.0, 0.0], [2.0, 0.0, 2.0]])
        g = prefloss.sequence_logps_backward(array.array("f", [1.0, 2.0]), bytes(m[0] + m[1]),
                                             "mean", seq_len=3)
        self.assertEqual(list(g), [0.5, 0.5, 0.0, 1.0, 0.0, 1.0])
        g = prefloss.sequence_logps_backward(torch.tensor([1.0, 2.0]),
                                             torch.tensor(m, dtype=torch.bool), "mean")
        self.assertEqual(g.shape, (2, 3))

    def test_empty_inputs(self):
        for k in (lambda: np.zeros(0, F32), lambda: torch.zeros(0), lambda: array.array("f"),
                  list):
            out = prefloss.dpo_loss(k(), k(), k(), k())
            self.assertEqual([len(o) for o in out], [0, 0, 0])
        self.assertEqual(prefloss.sequence_logps(np.zeros((0, 5), F32)).shape, (0,))
        self.assertEqual(prefloss.sequence_logps(np.zeros((3, 0), F32)).tolist(), [0, 0, 0])


class Errors(unittest.TestCase):
    """Every error path: the binding's ValueError/TypeError before any call,
    and each negative library status as prefloss.Error with its message."""

    def setUp(self):
        self.a = [np.array(x, F32) for x in (PC, PR, RC, RR)]

    def assertLibraryError(self, status, fn, *args, **kw):
        with self.assertRaises(prefloss.Error) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.status, status)
        self.assertEqual(cm.exception.name, prefloss.status_name(status))
        self.assertIn(prefloss.strerror(status), str(cm.exception))
        return cm.exception

    def test_wrong_dtypes(self):
        pc, pr, rc, rr = self.a
        for bad in (pc.astype(np.float64), pc.astype(np.float16), pc.astype(np.int32),
                    pc.astype(">f4"), torch.tensor(PC, dtype=torch.float64),
                    torch.tensor(PC, dtype=torch.bfloat16), torch.tensor(PC, dtype=torch.float16),
                    array.array("d", PC)):
            with self.subTest(dtype=getattr(bad, "dtype", getattr(bad, "typecode", None))):
                other = torch.tensor(PR) if isinstance(bad, torch.Tensor) else \
                    array.array("f", PR) if isinstance(bad, array.array) else pr
                with self.assertRaisesRegex(ValueError, "float32|typecode"):
                    prefloss.dpo_loss(bad, other)

    def test_not_contiguous(self):
        big = np.arange(8, dtype=F32) - 10
        with self.assertRaisesRegex(ValueError, "contiguous"):
            prefloss.dpo_loss(big[::2], big[1::2])
        tb = torch.arange(8, dtype=torch.float32) - 10
        with self.assertRaisesRegex(ValueError, "contiguous"):
            prefloss.dpo_loss(tb[::2], tb[1::2])
        with self.assertRaisesRegex(ValueError, "contiguous"):
            prefloss.sequence_logps(np.asfortranarray(np.ones((3, 4), F32)))
        with self.assertRaisesRegex(ValueError, "contiguous"):
            prefloss.sequence_logps(torch.ones(4, 3).t())
        with self.assertRaisesRegex(ValueError, "contiguous"):
            prefloss.sequence_logps(np.ones((3, 4), F32), np.ones((4, 3), bool).T)

    def test_unaligned(self):
        raw = bytearray(4 * 4 + 1)
        un = np.frombuffer(raw, dtype=F32, count=4, offset=1)
        with self.assertRaisesRegex(ValueError, "aligned"):
            prefloss.dpo_loss(un, self.a[1])

    def test_not_cpu_or_not_dense(self):
        meta = torch.empty(4, device="meta")
        with self.assertRaisesRegex(ValueError, "CPU"):
            prefloss.dpo_loss(meta, torch.tensor(PR))
        sparse = torch.tensor(PC).to_sparse()
        with self.assertRaisesRegex(ValueError, "dense"):
            prefloss.dpo_loss(sparse, torch.tensor(PR))

    def test_mismatched_lengths(self):
        pc, pr, rc, rr = self.a
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(pc, pr[:3])
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(pc, pr, rc, rr[:3])
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(pc, pr, dlosses=np.ones(5, F32))
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(pc.reshape(4, 1), pr)
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(PC, PR[:3])
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.bt_loss(pc, pr, margin=np.zeros(2, F32))
        with self.assertRaisesRegex(ValueError, "ragged"):
            prefloss.sequence_logps([[1.0, 2.0], [3.0]])
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.sequence_logps(np.ones((3, 4), F32), np.ones((3, 5), bool))
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.sequence_logps_backward(np.ones(2, F32), np.ones((3, 5), bool))

    def test_wrong_kinds(self):
        pc, pr, _, _ = self.a
        with self.assertRaises(TypeError):
            prefloss.dpo_loss(pc, torch.tensor(PR))
        with self.assertRaises(TypeError):
            prefloss.dpo_loss(pc, list(PR))
        with self.assertRaises(TypeError):
            prefloss.dpo_loss({"a": 1}, pr)
        with self.assertRaises(TypeError):
            prefloss.dpo_loss("abc", "def")
        with self.assertRaises(TypeError):
            prefloss.dpo_loss([-1.0, "x"], [-1.0, -2.0])
        with self.assertRaises(TypeError):
            prefloss.dpo_loss(pc, pr, beta="big")
        with self.assertRaises(TypeError):
            prefloss.sequence_logps(np.ones((2, 2), F32), torch.ones(2, 2, dtype=torch.bool))

    def test_sequence_argument_errors(self):
        t = np.ones((2, 3), F32)
        with self.assertRaisesRegex(ValueError, "mask dtype"):
            prefloss.sequence_logps(t, np.ones((2, 3), F32))
        with self.assertRaisesRegex(ValueError, "mask dtype"):
            prefloss.sequence_logps(torch.ones(2, 3), torch.ones(2, 3))
        with self.assertRaisesRegex(ValueError, "mask values"):
            prefloss.sequence_logps([[1.0, 2.0]], [[1, 2]])
        with self.assertRaisesRegex(ValueError, "2-D"):
            prefloss.sequence_logps(np.ones(6, F32))
        with self.assertRaisesRegex(ValueError, "reduction"):
            prefloss.sequence_logps(t, reduction="max")
        with self.assertRaisesRegex(ValueError, "multiple"):
            prefloss.sequence_logps(array.array("f", [1.0] * 5), seq_len=3)
        with self.assertRaisesRegex(ValueError, "seq_len"):
            prefloss.sequence_logps_backward(np.ones(2, F32))

    def test_out_errors(self):
        pc, pr, _, _ = self.a
        ro = np.zeros(4, F32)
        ro.flags.writeable = False
        with self.assertRaisesRegex(ValueError, "read-only"):
            prefloss.dpo_loss(pc, pr, out=(ro, None, None))
        with self.assertRaisesRegex(ValueError, "out"):
            prefloss.dpo_loss(pc, pr, out=(np.zeros(4, F32),))
        with self.assertRaisesRegex(ValueError, "shape"):
            prefloss.dpo_loss(pc, pr, out=(np.zeros(3, F32), None, None))
        with self.assertRaisesRegex(ValueError, "list"):
            prefloss.dpo_loss(PC, PR, out=([0.0] * 4, None, None))

    def test_err_param(self):
        pc, pr, rc, rr = self.a
        E = prefloss.ERR_PARAM
        for beta in (0.0, -0.1, float("nan"), float("inf"), 1e-45, 1e39):
            with self.subTest(beta=beta):
                self.assertLibraryError(E, prefloss.dpo_loss, pc, pr, rc, rr, beta=beta)
                self.assertLibraryError(E, prefloss.ipo_loss, pc, pr, rc, rr, beta=beta)
                self.assertLibraryError(E, prefloss.ipo_general_loss, pc, pr, beta=beta)
                self.assertLibraryError(E, prefloss.rewards, pc, pr, beta=beta)
        for eps in (-0.01, 0.51, float("nan"), 1.0):
            with self.subTest(label_smoothing=eps):
                self.assertLibraryError(E, prefloss.dpo_loss, pc, pr, label_smoothing=eps)
        # alpha1 <= alpha2, both finite, their difference finite.
        prefloss.ipo_general_loss(pc, pr, alpha1=3e38, alpha2=3e38)
        prefloss.ipo_general_loss(pc, pr, alpha1=-1.0, alpha2=-1.0)
        for a1, a2 in ((float("nan"), 1.0), (0.0, float("inf")), (float("-inf"), 0.0),
                       (1.0, 0.0), (-3e38, 3e38)):
            with self.subTest(alpha1=a1, alpha2=a2):
                self.assertLibraryError(E, prefloss.ipo_general_loss, pc, pr, alpha1=a1,
                                        alpha2=a2)
        for c in (-1.0, float("nan"), float("inf")):
            with self.subTest(center=c):
                self.assertLibraryError(E, prefloss.bt_loss, pc, pr, None, c)
        for red in (2, -1, 99):
            with self.subTest(reduction=red):
                self.assertLibraryError(E, prefloss.sequence_logps, np.ones((2, 2), F32),
                                        reduction=red)
                self.assertLibraryError(E, prefloss.sequence_logps_backward, np.ones(2, F32),
                                        reduction=red, seq_len=2)

    def test_err_null(self):
        # Exactly one of the two reference buffers: the library refuses it.
        pc, pr, rc, rr = self.a
        for fn in (prefloss.dpo_loss, prefloss.ipo_loss, prefloss.ipo_general_loss,
                   prefloss.rewards):
            with self.subTest(fn=fn.__name__):
                self.assertLibraryError(prefloss.ERR_NULL, fn, pc, pr, rc, None)
                self.assertLibraryError(prefloss.ERR_NULL, fn, pc, pr, None, rr)
        lib = prefloss.load()
        o = (ctypes.c_float * 4)()
        self.assertEqual(lib.prefloss_dpo_loss(o, None, None, None, None, None, None, None,
                                               4, 0.1, 0.0), prefloss.ERR_NULL)
        self.assertEqual(lib.prefloss_sequence_logps(None, o, None, 1, 4, 0), prefloss.ERR_NULL)
        self.assertEqual(lib.prefloss_sequence_logps_backward(o, None, None, 1, 4, 0),
                         prefloss.ERR_NULL)
        self.assertEqual(lib.prefloss_bt_loss(o, None, None, o, None, None, None, 4, 0.0),
                         prefloss.ERR_NULL)

    def test_err_overlap_writes_nothing(self):
        pc, pr, rc, rr = [a.copy() for a in self.a]
        before = [a.copy() for a in (pc, pr, rc, rr)]
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.dpo_loss, pc, pr, rc, rr,
                                out=(pc, None, None))
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.ipo_loss, pc, pr, rc, rr,
                                out=(None, None, rr))
        base = np.full(9, 7.0, F32)
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.dpo_loss, pc, pr, rc, rr,
                                out=(base[0:4], base[3:7], None))
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.rewards, pc, pr, rc, rr,
                                out=(base[0:4], None, None, base[2:6]))
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.bt_loss, pc, pr,
                                out=(None, pr, None))
        up = np.ones(4, F32)
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.dpo_loss, pc, pr,
                                dlosses=up, out=(None, up, None))
        t = np.ones((2, 4), F32)
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.sequence_logps, t,
                                out=t.reshape(-1)[:2])
        self.assertLibraryError(prefloss.ERR_OVERLAP, prefloss.sequence_logps_backward,
                                t.reshape(-1)[:2], seq_len=4, out=t)
        for a, b in zip((pc, pr, rc, rr), before):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(base, np.full(9, 7.0, F32))
        np.testing.assert_array_equal(t, np.ones((2, 4), F32))
        # adjacent (touching, not overlapping) buffers are fine
        prefloss.dpo_loss(pc, pr, rc, rr, out=(base[0:4], base[4:8], None))

    def test_err_size(self):
        # No Python buffer is that large: call the library directly, as the
        # binding would, and check prefloss.Error carries the status.
        lib = prefloss.load()
        o = (ctypes.c_float * 4)()
        i = (ctypes.c_float * 4)()
        st = lib.prefloss_sequence_logps(o, i, None, 2 ** 33, 2 ** 33, 0)
        self.assertEqual(st, prefloss.ERR_SIZE)
        st2 = lib.prefloss_dpo_loss(o, None, None, i, i, None, None, None, 2 ** 62, 0.1, 0.0)
        self.assertEqual(st2, prefloss.ERR_SIZE)
        self.assertEqual(list(o), [0.0] * 4)  # nothing written
        with self.assertRaises(prefloss.Error) as cm:
            prefloss._lib.check(st, "prefloss_sequence_logps")
        self.assertEqual(cm.exception.status, prefloss.ERR_SIZE)
        self.assertIn(prefloss.strerror(prefloss.ERR_SIZE), str(cm.exception))

    def test_nonfinite_is_a_warning(self):
        with self.assertWarns(RuntimeWarning) as cm:
            loss = prefloss.dpo_loss([float("nan"), -1.0], [-2.0, -2.0])[0]
        self.assertIn(prefloss.strerror(prefloss.NONFINITE), str(cm.warning))
        self.assertEqual(cm.filename, __file__)  # points at the caller, not the binding
        self.assertTrue(loss[0] != loss[0])
        with self.assertWarns(RuntimeWarning) as cm:
            prefloss.sequence_logps([[float("nan")]])
        self.assertEqual(cm.filename, __file__)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with self.assertRaises(RuntimeWarning):
                prefloss.ipo_loss([float("inf")], [-1.0])


if __name__ == "__main__":
    unittest.main()
