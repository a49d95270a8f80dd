"""Knowledge base: articles in Japanese and English, versions, search, feedback, deflection."""
