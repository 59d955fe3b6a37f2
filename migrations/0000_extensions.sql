-- Hand-written: PostGIS for geometry, pg_trgm for Chinese name search. Both databases carry them.
CREATE EXTENSION IF NOT EXISTS postgis;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;
