"""Binary classification with a confusion matrix
=============================================

A 30-20-1 binary classifier (tanh hidden layer, logistic output) with its confusion
matrix, on scikit-learn's bundled breast cancer data (it stands in for the classic
41-20-1 QSAR biodegradation example, whose data is not bundled).

    python examples/breast_cancer.py
"""
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nnfast import MLPClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(20,), activation="tanh",
                                                      max_iter=500, random_state=0))
model.fit(X_train, y_train)
print(f"{X.shape[1]}-20-1 network, test accuracy: {model.score(X_test, y_test):.3f}")
print("confusion matrix (rows: true malignant, benign; columns: predicted):")
print(confusion_matrix(y_test, model.predict(X_test)))
