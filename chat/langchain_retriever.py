"""The hybrid retriever as a LangChain `BaseRetriever`, so that it drops into any chain:

    docs = retriever.as_langchain().invoke("Why are small caps cheap?")   # chat.retrieval.HybridRetriever.search
    chain = retriever.as_langchain() | format_docs | prompt | llm

Kept apart from chat.retrieval: LangChain's retriever base imports its tracing stack (langsmith), ~0.5 s that
answering a question never needs.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class LangChainRetriever(BaseRetriever):
    """`invoke(query)` is `hybrid.search(query)`: its k best passages, scores in each Document's metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: Any  # chat.retrieval.HybridRetriever

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.hybrid.search(query)
