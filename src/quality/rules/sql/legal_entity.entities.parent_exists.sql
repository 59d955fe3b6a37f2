-- id: legal_entity.entities.parent_exists
-- registry: legal-entity
-- dataset: legal_entity.entities
-- dimension: consistency
-- severity: error
-- threshold: 0.001
-- description: A branch or subordinate unit names an existing head office or parent unit, not itself
-- from: entities e
-- where: e.parent_entity_id IS NOT NULL
-- division: e.division_code
SELECT e.id AS key, e.division_code,
       CASE WHEN e.parent_entity_id = e.id THEN 'names itself as its parent'
            ELSE 'parent entity ' || e.parent_entity_id || ' does not exist' END AS detail
  FROM entities e
 WHERE e.parent_entity_id IS NOT NULL
   AND (e.parent_entity_id = e.id OR NOT EXISTS (SELECT 1 FROM entities p WHERE p.id = e.parent_entity_id))
