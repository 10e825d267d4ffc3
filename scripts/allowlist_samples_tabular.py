"""Samples from tabular ML: scikit-learn estimators, scipy sparse matrices, pandas objects,
sklearn fitted on DataFrames, gradient-boosting estimators and statsmodels results, pickled and
dumped with joblib as people ship them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _sklearn_estimators() -> Any:
    import numpy as np
    from sklearn import (
        cluster,
        compose,
        decomposition,
        discriminant_analysis,
        ensemble,
        feature_extraction,
        impute,
        linear_model,
        multiclass,
        naive_bayes,
        neighbors,
        neural_network,
        pipeline,
        preprocessing,
        svm,
        tree,
    )

    np.random.seed(0)  # estimators without random_state draw from it: same bytes every run
    rng = np.random.default_rng(0)
    x, y, yr = rng.normal(size=(24, 3)), np.arange(24) % 2, rng.normal(size=24)
    classifiers = [
        linear_model.LogisticRegression(),
        linear_model.SGDClassifier(),
        linear_model.RidgeClassifier(),
        tree.DecisionTreeClassifier(),
        ensemble.RandomForestClassifier(3),
        ensemble.ExtraTreesClassifier(3),
        ensemble.GradientBoostingClassifier(n_estimators=3),
        ensemble.HistGradientBoostingClassifier(max_iter=3),
        ensemble.AdaBoostClassifier(n_estimators=3),
        svm.SVC(),
        svm.LinearSVC(),
        neighbors.KNeighborsClassifier(3),
        naive_bayes.GaussianNB(),
        neural_network.MLPClassifier((3,), max_iter=5),
        neighbors.KNeighborsClassifier(3, algorithm="ball_tree"),
        naive_bayes.BernoulliNB(),
        ensemble.BaggingClassifier(n_estimators=2),
        ensemble.VotingClassifier([("lr", linear_model.LogisticRegression())]),
        discriminant_analysis.LinearDiscriminantAnalysis(),
        multiclass.OneVsRestClassifier(linear_model.LogisticRegression()),
    ]
    regressors = [
        linear_model.LinearRegression(),
        linear_model.Ridge(),
        linear_model.Lasso(),
        linear_model.ElasticNet(),
        tree.DecisionTreeRegressor(),
        ensemble.RandomForestRegressor(3),
        ensemble.GradientBoostingRegressor(n_estimators=3),
        ensemble.HistGradientBoostingRegressor(max_iter=3),
        svm.SVR(),
        ensemble.ExtraTreesRegressor(3),
        neighbors.KNeighborsRegressor(3),
        linear_model.BayesianRidge(),
        linear_model.HuberRegressor(),
    ]
    transformers = [
        preprocessing.StandardScaler(),
        preprocessing.MinMaxScaler(),
        preprocessing.RobustScaler(),
        preprocessing.OneHotEncoder(),
        preprocessing.PolynomialFeatures(),
        decomposition.PCA(2),
        decomposition.TruncatedSVD(2),
        impute.SimpleImputer(),
        cluster.KMeans(2, n_init=1),
        cluster.DBSCAN(),
        cluster.MiniBatchKMeans(2, n_init=1),
        ensemble.IsolationForest(n_estimators=2),
        neighbors.NearestNeighbors(),
        preprocessing.Normalizer(),
        preprocessing.MaxAbsScaler(),
        impute.KNNImputer(),
    ]
    fitted: list[Any] = [e.fit(x, y) for e in classifiers]
    fitted += [e.fit(x, yr) for e in regressors] + [e.fit(x) for e in transformers]
    fitted.append(preprocessing.LabelEncoder().fit(["a", "b"]))
    text = ["ab cd", "cd ef", "ef ab"]
    fitted += [
        feature_extraction.text.TfidfVectorizer().fit(text),
        feature_extraction.text.CountVectorizer().fit(text),
        feature_extraction.DictVectorizer().fit([{"a": 1}]),
        naive_bayes.MultinomialNB().fit(np.abs(x), y),
    ]
    column = compose.ColumnTransformer(
        [("num", preprocessing.StandardScaler(), [0, 1])], remainder="passthrough"
    )
    fitted.append(
        pipeline.Pipeline([("cols", column), ("clf", linear_model.LogisticRegression())]).fit(x, y)
    )
    fitted.append(pipeline.make_union(decomposition.PCA(1), preprocessing.StandardScaler()).fit(x))
    return fitted


def _scipy_sparse() -> Any:
    from scipy import sparse

    eye = sparse.eye(2)
    return [
        eye.tocsr(),
        eye.tocsc(),
        eye.tocoo(),
        sparse.csr_array(eye),
        sparse.csc_array(eye),
        sparse.coo_array(eye),
        eye.tolil(),
        eye.todok(),
        eye.tobsr(),
        eye.todia(),
    ]


def _frame() -> Any:
    import numpy as np
    import pandas as pd

    np.random.seed(0)  # estimators fitted on the frame draw from it: same bytes every run
    rng = np.random.default_rng(0)
    n = 24
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "count": np.arange(n),
            "nullable": pd.array([1, None] * (n // 2), dtype="Int64"),
            "flag": np.arange(n) % 2 == 0,
            "bool_na": pd.array([True, None] * (n // 2), dtype="boolean"),
            "city": pd.Categorical(["a", "b", "c"] * (n // 3)),
            "text": ["x", "y"] * (n // 2),
            "string": pd.array(["u", None] * (n // 2), dtype="string"),
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "when_tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "delta": pd.to_timedelta(np.arange(n), unit="s"),
            "float_na": pd.array([0.5, None] * (n // 2), dtype="Float64"),
        }
    )


def _pandas_objects() -> Any:
    import pandas as pd

    frame = _frame()
    index = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
    return {
        "frame": frame,
        "series": frame["num"],
        "multi": pd.Series(range(4), index=index),
        "period": pd.period_range("2024-01", periods=3, freq="M"),
        "interval": pd.interval_range(0, 3),
        "range_index": pd.RangeIndex(3),
        "sparse": pd.arrays.SparseArray([0, 0, 1]),
        "timestamp": pd.Timestamp("2024-01-01", tz="UTC"),
        "timedelta": pd.Timedelta(1, "s"),
        "na": [pd.NA, pd.NaT],
        "offsets": [pd.offsets.Day(), pd.offsets.MonthEnd()],
        "grouped": frame.groupby("city", observed=True)["num"].mean(),
    }


def _sklearn_on_frames() -> Any:
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    frame = _frame()
    x, y = frame[["num", "count", "city", "text"]], frame["flag"]
    columns = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["num", "count"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector("city")),
            ("txt", OrdinalEncoder(), ["text"]),
        ],
    )  # fmt: skip
    pipe = Pipeline([("columns", columns), ("clf", LogisticRegression())]).fit(x, y)
    pandas_out = make_pipeline(StandardScaler()).set_output(transform="pandas")
    pandas_out.fit(frame[["num", "count"]])
    hist = HistGradientBoostingClassifier(max_iter=2, categorical_features="from_dtype")
    return {
        "pipeline": pipe,
        "pandas_output": pandas_out,
        "hist": hist.fit(frame[["num", "city"]], y),
        "forest": RandomForestClassifier(2).fit(frame[["num", "count"]], y),
        "training_frame": x,
    }


def _boosters() -> Any:
    import lightgbm
    import xgboost

    frame = _frame()
    x, y, yr = frame[["num", "count", "city"]], frame["flag"].astype(int), frame["num"]
    return {
        "xgb_classifier": xgboost.XGBClassifier(n_estimators=2, enable_categorical=True).fit(x, y),
        "xgb_regressor": xgboost.XGBRegressor(n_estimators=2).fit(x[["count"]], yr),
        "xgb_ranker": xgboost.XGBRanker(n_estimators=2).fit(x[["count"]], y, qid=[0] * len(y)),
        "lgbm_classifier": lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, y),
        "lgbm_regressor": lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(x[["count"]], yr),
    }


def _booster_cores() -> Any:
    import lightgbm
    import numpy as np
    import xgboost

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)), np.arange(24) % 2
    xgb = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, y), 2)
    lgb = lightgbm.train({"objective": "binary", "verbose": -1}, lightgbm.Dataset(x, y), 2)
    return {"xgb_booster": xgb, "lgb_booster": lgb}


def _statsmodels_results() -> Any:
    import numpy as np
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    frame = _frame()[["num", "count", "flag", "city"]]
    frame["flag"] = frame["flag"].astype(int)
    x = sm.add_constant(np.column_stack([frame["count"], np.arange(24) % 3]))
    ols = sm.OLS(frame["num"].to_numpy(), x).fit()
    logit = smf.logit("flag ~ count", data=frame).fit(disp=0)
    glm = sm.GLM(frame["flag"], x, family=sm.families.Binomial()).fit()
    for result in (ols, logit, glm):
        result.remove_data()  # what results.save(remove_data=True) does before pickling
    return {"ols": ols, "logit": logit, "glm": glm}


SAMPLES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("sklearn estimators", "sklearn", "pickle", _sklearn_estimators),
    ("sklearn estimators (joblib)", "sklearn", "joblib", _sklearn_estimators),
    ("scipy sparse", "scipy", "pickle", _scipy_sparse),
    ("scipy sparse (joblib)", "scipy", "joblib", _scipy_sparse),
    ("pandas objects", "pandas", "pickle", _pandas_objects),
    ("pandas objects (joblib)", "pandas", "joblib", _pandas_objects),
    ("pandas objects in torch.save", "pandas", "torch", _pandas_objects),
    ("sklearn fitted on DataFrames", "pandas", "pickle", _sklearn_on_frames),
    ("sklearn fitted on DataFrames (joblib)", "pandas", "joblib", _sklearn_on_frames),
    ("xgboost/lightgbm sklearn estimators", "boosters", "pickle", _boosters),
    ("xgboost/lightgbm sklearn estimators (joblib)", "boosters", "joblib", _boosters),
    ("xgboost/lightgbm boosters", "boosters", "pickle", _booster_cores),
    ("statsmodels results", "statsmodels", "pickle", _statsmodels_results),
]
