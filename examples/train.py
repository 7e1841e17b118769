"""Train a breast-cancer classifier, export it to ONNX and register it in
Slipway with the unmodified MLflow client.

    pip install mlflow scikit-learn skl2onnx onnx pandas
    export MLFLOW_TRACKING_URI=http://127.0.0.1:8080          # or http://host:port/w/<workspace>
    export MLFLOW_TRACKING_TOKEN="$(cat .slipway/admin-token)" # any Slipway token, sent as a bearer token
    python examples/train.py --alias candidate

Slipway speaks MLflow's REST API, so nothing here is Slipway-specific: the
run, its params and metrics, the ONNX model (uploaded through the artifact
proxy) and the registered version land in Slipway, and the version serves
as is (`slipway apply -f examples/slipway.yaml`). The training rows are also
written to cancer-train.csv, to upload as the drift monitor's reference:

    slipway dataset upload cancer-train cancer-train.csv

The new version number is printed alone on the last line.
"""
import argparse

import mlflow
import mlflow.onnx
import numpy as np
from mlflow import MlflowClient
from mlflow.models import infer_signature
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='cancer-classifier', help='registered model name')
    parser.add_argument('--experiment', default='cancer', help='MLflow experiment')
    parser.add_argument('--alias', default='candidate', help="alias to point at the new version ('' for none)")
    parser.add_argument('--C', type=float, default=1.0, help='inverse regularisation strength')
    parser.add_argument('--reference-csv', default='cancer-train.csv', help='where to write the training rows')
    args = parser.parse_args()

    # Bundled with scikit-learn: nothing is downloaded. Column names without spaces travel well in dataframe_split.
    data = load_breast_cancer(as_frame=True)
    x = data.data.rename(columns=lambda c: c.replace(' ', '_')).astype(np.float32)
    y = data.target
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    x_train.assign(label=y_train).to_csv(args.reference_csv, index=False)

    mlflow.set_experiment(args.experiment)
    with mlflow.start_run() as run:
        params = {'C': args.C, 'max_iter': 1000, 'scaler': 'standard'}
        mlflow.log_params(params)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000))
        model.fit(x_train, y_train)

        proba = model.predict_proba(x_test)
        mlflow.log_metrics({
            'accuracy': accuracy_score(y_test, proba.argmax(axis=1)),
            'f1': f1_score(y_test, proba.argmax(axis=1)),
            'roc_auc': roc_auc_score(y_test, proba[:, 1]),
            'log_loss': log_loss(y_test, proba),
        })

        # ONNX with outputs `label` and `probabilities` (a plain tensor, not a list of dicts: zipmap off).
        onnx_model = to_onnx(model, x_train.values[:1], options={LogisticRegression: {'zipmap': False}}, target_opset=15)
        signature = infer_signature(x_test.values, proba)
        mlflow.onnx.log_model(onnx_model, artifact_path='model', signature=signature, registered_model_name=args.model)

    client = MlflowClient()
    version = max(int(v.version) for v in client.search_model_versions(f"name='{args.model}' and run_id='{run.info.run_id}'"))
    if args.alias:
        client.set_registered_model_alias(args.model, args.alias, str(version))
    print(f'run {run.info.run_id}: registered {args.model} version {version}' + (f' as @{args.alias}' if args.alias else ''))
    print(version)


if __name__ == '__main__':
    main()
